import { Writable } from 'node:stream'

/** The parts of node-postgres's connection a COPY FROM needs (pg has no public type for it). */
interface PgConnection {
  query(text: string): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
  sendCopyFail(message: string): void
  stream: { write(chunk: Buffer): boolean; once(event: 'drain', fn: () => void): void; writableNeedDrain?: boolean }
}

/**
 * `COPY ... FROM STDIN` on a node-postgres client, as a writable byte stream (the counterpart of
 * tenant-export/copy-out-stream.ts, like pg-copy-streams' `from`). Chunks go to the server as
 * they come; a full socket holds the writer back, so piping a CopyOutStream into it moves a
 * table of any size through constant memory.
 *
 * @example
 *   const into = target.query(new CopyInStream('copy public.users from stdin'))
 *   await pipeline(source.query(new CopyOutStream('copy (select * from public.users) to stdout')), into)
 */
export class CopyInStream extends Writable {
  readonly text: string
  #connection: PgConnection | undefined
  /** Settles when the server asks for data (CopyInResponse) or refused the COPY. */
  readonly #ready: Promise<void>
  #resolveReady!: () => void
  #rejectReady!: (error: Error) => void
  #started = false
  #error: Error | undefined
  #done = false
  #finished: ((error?: Error | null) => void) | undefined

  constructor(text: string) {
    super({ highWaterMark: 256 * 1024 })
    this.text = text
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.#ready.catch(() => {})
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: PgConnection): void {
    this.#connection = connection
    connection.query(this.text)
  }

  /** The server is ready for data. */
  handleCopyInResponse(connection: PgConnection): void {
    this.#connection = connection
    this.#started = true
    this.#resolveReady()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#ready.then(() => {
      if (this.#error) return callback(this.#error)
      const connection = this.#connection!
      connection.sendCopyFromChunk(chunk)
      if (connection.stream.writableNeedDrain) connection.stream.once('drain', () => callback())
      else callback()
    }, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ready.then(() => {
      if (this.#error) return callback(this.#error)
      this.#finished = callback
      this.#connection!.endCopyFrom()
      if (this.#done) this.#settle()
    }, callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // An aborted pipeline must not leave the server waiting for more data.
    if (error && this.#started && !this.#done && !this.#finished) this.#connection?.sendCopyFail(error.message.slice(0, 200))
    callback(error)
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}

  handleError(error: Error): void {
    this.#error = error
    if (!this.#started) this.#rejectReady(error)
  }

  handleReadyForQuery(): void {
    this.#done = true
    if (!this.#started) this.#rejectReady(this.#error ?? new Error('the server did not start the COPY'))
    this.#settle()
  }

  #settle(): void {
    const finished = this.#finished
    if (!finished) {
      if (this.#error && !this.destroyed) this.destroy(this.#error)
      return
    }
    this.#finished = undefined
    finished(this.#error ?? null)
  }
}
