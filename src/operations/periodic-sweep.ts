import type { Logger } from '../logger.js'

/**
 * A job that runs now and then every `intervalMs` (the timer never keeps the process alive),
 * one run at a time per replica, each run taking items until `next()` finds none: the shape
 * of the cleanups that drop what was kept for undo (a restore's previous database, a move's
 * source) once its time is over.
 *
 * @example
 *   class Cleanup extends PeriodicSweep {
 *     protected async next() { return (await claimAndDropOne()) ?? undefined }
 *   }
 *   const cleanup = new Cleanup(log, 'restore cleanup', 600_000)
 *   cleanup.start()
 */
export abstract class PeriodicSweep {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<string[]> | undefined
  #stopped = false

  constructor(
    protected readonly sweepLog: Logger,
    private readonly what: string,
    private readonly intervalMs = 10 * 60_000
  ) {}

  /** Handles one item; resolves with its name, or undefined when nothing is left. */
  protected abstract next(): Promise<string | undefined>

  /** Runs now, then every intervalMs. */
  start(): void {
    if (this.#timer || this.#stopped) return
    const tick = () => {
      this.runOnce().catch((error: Error) => this.sweepLog.warn({ err: { message: error.message } }, `${this.what} failed; retrying at the next run`))
    }
    this.#timer = setInterval(tick, this.intervalMs)
    this.#timer.unref()
    tick()
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => {})
  }

  /** One run now (or the one in progress): resolves with the names of the items handled. */
  runOnce(): Promise<string[]> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined))
    return this.#running
  }

  async #run(): Promise<string[]> {
    const done: string[] = []
    while (!this.#stopped) {
      const name = await this.next()
      if (name === undefined) break
      done.push(name)
    }
    return done
  }
}
