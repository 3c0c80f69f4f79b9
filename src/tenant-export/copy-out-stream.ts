import { Readable } from 'node:stream'

/** The parts of node-postgres's connection a COPY needs (pg has no public type for it). */
interface PgConnection {
  query(text: string): void
  stream: { pause(): void; resume(): void }
}

/**
 * `COPY (...) TO STDOUT` on a node-postgres client, as a byte stream: the server's CopyData
 * messages arrive as Buffers (no JavaScript string per row, so a million rows make little
 * garbage), and the client's socket is paused while the reader is behind, so the server
 * waits instead of this process buffering. A submittable in pg's sense, like pg-copy-streams.
 *
 * @example
 *   const copy = client.query(new CopyOutStream('copy (select ...) to stdout'))
 *   for await (const chunk of copy) ...
 */
export class CopyOutStream extends Readable {
  readonly text: string
  #connection: PgConnection | undefined
  #paused = false

  constructor(text: string) {
    super({ highWaterMark: 256 * 1024 })
    this.text = text
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: PgConnection): void {
    this.#connection = connection
    connection.query(this.text)
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.destroyed) return
    // node-postgres's parser reuses its receive buffer: a chunk still queued in this stream
    // when the next packet arrives would be overwritten in place. Queue a copy of it.
    if (!this.push(Buffer.from(message.chunk)) && !this.#paused) {
      this.#paused = true
      this.#connection!.stream.pause()
    }
  }

  override _read(): void {
    this.#resume()
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}

  handleReadyForQuery(): void {
    this.#resume()
    if (!this.destroyed) this.push(null)
  }

  handleError(error: Error): void {
    this.#resume()
    this.destroy(error)
  }

  #resume(): void {
    if (this.#paused) {
      this.#paused = false
      this.#connection!.stream.resume()
    }
  }
}
