import { PoolExhausted } from '../errors.js'

/** Gives back one permit; calling it again does nothing. */
export type ReleasePermit = () => void

interface Waiter {
  grant(release: ReleasePermit): void
  fail(error: Error): void
}

/**
 * A counting semaphore for server connections: at most `size` permits are out at once,
 * across every tenant pool of the process. Waiters are served first come, first served.
 *
 * Invariant: `inUse` counts permits handed out and not yet given back. A released permit
 * goes straight to the oldest waiter (inUse stays the same), so a newcomer calling
 * `take()` at that moment cannot barge ahead of someone who has been waiting.
 *
 * @example
 *   const budget = new ConnectionBudget(20)
 *   const release = await budget.take(5000)   // PoolExhausted after 5 s without a permit
 *   try { await connect() } finally { release() }
 */
export class ConnectionBudget {
  readonly size: number
  #inUse = 0
  #waiters: Waiter[] = []
  #closed: Error | undefined

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`connection budget must be a positive integer, got ${size}`)
    this.size = size
  }

  /** Permits handed out now (each is one open or opening server connection). */
  get inUse(): number {
    return this.#inUse
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length
  }

  /**
   * Resolves with a release function once a permit is free; rejects with PoolExhausted
   * after `timeoutMs`. `onQueued` runs when the caller has to wait (after it is queued),
   * so the owner can try to free a permit (close an idle connection elsewhere).
   */
  take(timeoutMs: number, onQueued?: () => void): Promise<ReleasePermit> {
    if (this.#closed) return Promise.reject(this.#closed)
    if (this.#inUse < this.size && this.#waiters.length === 0) {
      this.#inUse++
      return Promise.resolve(this.#releaseOnce())
    }
    return new Promise<ReleasePermit>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer)
          resolve(release)
        },
        fail: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      // Why a timeout at all: a request must not hang behind a budget that never frees up
      // (every connection busy with slow queries); it answers 503 PoolExhausted instead.
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        reject(new PoolExhausted())
      }, timeoutMs)
      this.#waiters.push(waiter)
      onQueued?.()
    })
  }

  /** Rejects every waiter and every later take() with `error` (shutdown). */
  close(error: Error): void {
    this.#closed = error
    for (const waiter of this.#waiters.splice(0)) waiter.fail(error)
  }

  #releaseOnce(): ReleasePermit {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiters.shift()
      // Hand the permit over without decrementing: the connection count never dips and
      // rises again, so no third party can slip in between.
      if (next) next.grant(this.#releaseOnce())
      else this.#inUse--
    }
  }
}
