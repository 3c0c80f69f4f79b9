import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'

/** A pass-through that counts bytes and hashes them (SHA-256) on the way. */
export interface DigestStream extends Transform {
  readonly bytes: number
  /** Hex SHA-256 of every byte that passed; call once the stream has ended. */
  digest(): string
}

/**
 * Counts and hashes a stream without keeping it: the backup checksum is computed while the
 * bytes go to storage, not by reading the file a second time.
 *
 * @example
 *   const digest = createDigestStream((n) => progress(n))
 *   await pipeline(source, digest, sink)
 *   digest.digest()   // 'e3b0c442...'
 */
export function createDigestStream(onBytes?: (total: number) => void): DigestStream {
  const hash = createHash('sha256')
  let bytes = 0
  let hex: string | undefined
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      bytes += chunk.length
      onBytes?.(bytes)
      callback(null, chunk)
    },
  }) as DigestStream
  Object.defineProperty(stream, 'bytes', { get: () => bytes })
  stream.digest = () => (hex ??= hash.digest('hex'))
  return stream
}
