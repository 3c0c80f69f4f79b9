import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import type { SecretSealer } from '../secrets/secret-sealer.js'

/**
 * The backup file format (docs/decisions.md "Backups"):
 *
 *   "TNDBAK" 0x00 0x01 | uint32 BE header length | header JSON | record 0 | record 1 | ...
 *
 * The header names the tenant and the backup, and carries the backup's random data key
 * sealed by the master keyring, so a file can be restored with the keyring alone (the
 * catalog row is not needed to read it). Each record is up to `chunkSize` bytes of the
 * pg_dump output, AES-256-GCM encrypted with its own nonce (7-byte random prefix, 4-byte
 * counter, 1-byte "final" flag) and the SHA-256 of the header as associated data. So: a
 * flipped bit fails that record's tag; records cannot be reordered (counter) or dropped at
 * the end (only the last record is sealed as final); and a header edited to name another
 * tenant no longer matches any record.
 */
const magic = Buffer.from('TNDBAK\x00\x01', 'latin1')
const prefixLength = magic.length + 4
/** Larger headers are not ours: refuse before buffering them. */
const maxHeaderLength = 64 * 1024
const tagLength = 16
/** 64 KiB records: small enough to stream, large enough that the 16-byte tags cost 0.02 %. */
export const defaultChunkSize = 64 * 1024

export interface BackupFileHeader {
  format: 'tenantd-backup'
  version: 1
  tenantId: string
  backupId: string
  cipher: 'aes-256-gcm'
  chunkSize: number
  /** 7 random bytes, base64. */
  noncePrefix: string
  /** The data key, sealed by the keyring (`v1:<kid>:...`). */
  sealedKey: string
  createdAt: string
}

/** Which backup a file must be: a file naming another tenant or backup is refused. */
export interface BackupIdentity {
  tenantId: string
  backupId: string
}

/** A backup file that is damaged, truncated, foreign or unreadable with this keyring. */
export class BackupFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'BackupFileError'
  }
}

function nonce(prefix: Buffer, counter: number, final: boolean): Buffer {
  const iv = Buffer.alloc(12)
  prefix.copy(iv, 0)
  iv.writeUInt32BE(counter, 7)
  iv[11] = final ? 1 : 0
  return iv
}

/**
 * Collects incoming buffers and hands out exact-size runs of them as slices of the buffers
 * that came in: a record is encrypted or decrypted part by part, never copied into one buffer
 * first (docs/benchmarks.md "Backups": the copies cost more CPU than the cipher).
 */
class ByteQueue {
  #parts: Buffer[] = []
  length = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#parts.push(chunk)
    this.length += chunk.length
  }

  /** The first n bytes, as slices of the buffers pushed (no copy). */
  takeParts(n: number): Buffer[] {
    const out: Buffer[] = []
    let wanted = n
    while (wanted > 0) {
      const head = this.#parts[0]!
      if (head.length <= wanted) {
        out.push(head)
        this.#parts.shift()
        wanted -= head.length
      } else {
        out.push(head.subarray(0, wanted))
        this.#parts[0] = head.subarray(wanted)
        wanted = 0
      }
    }
    this.length -= n
    return out
  }

  /** The first n bytes as one buffer, left in the queue (a copy only when they span several buffers). */
  peek(n: number): Buffer {
    const first = this.#parts[0]
    if (first && first.length >= n) return first.subarray(0, n)
    return Buffer.concat(this.#parts, this.length).subarray(0, n)
  }

  /** The first n bytes as one buffer (a copy only when they span several buffers). */
  take(n: number): Buffer {
    const parts = this.takeParts(n)
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n)
  }
}

/** The last n bytes of parts, and the parts without them (slices, no copy of the rest). */
function splitTail(parts: Buffer[], n: number): { body: Buffer[]; tail: Buffer } {
  const body = [...parts]
  const tail: Buffer[] = []
  let wanted = n
  while (wanted > 0 && body.length) {
    const last = body.pop()!
    if (last.length <= wanted) {
      tail.unshift(last)
      wanted -= last.length
    } else {
      tail.unshift(last.subarray(last.length - wanted))
      body.push(last.subarray(0, last.length - wanted))
      wanted = 0
    }
  }
  return { body, tail: tail.length === 1 ? tail[0]! : Buffer.concat(tail) }
}

/**
 * Encrypts a pg_dump stream into the backup file format with a fresh data key.
 *
 * @example
 *   const encrypt = createBackupEncryptor(sealer, { tenantId, backupId })
 *   await pipeline(dump.stdout, encrypt, hash, storageWriter)
 */
/** The encrypting stream, and its sealed data key for the catalog's copy (docs/decisions.md "Key rotation"). */
export type BackupEncryptor = Transform & { readonly sealedKey: string }

export function createBackupEncryptor(sealer: SecretSealer, identity: BackupIdentity, chunkSize = defaultChunkSize): BackupEncryptor {
  const key = randomBytes(32)
  const prefix = randomBytes(7)
  const header: BackupFileHeader = {
    format: 'tenantd-backup',
    version: 1,
    tenantId: identity.tenantId,
    backupId: identity.backupId,
    cipher: 'aes-256-gcm',
    chunkSize,
    noncePrefix: prefix.toString('base64'),
    sealedKey: sealer.seal(key.toString('base64')),
    createdAt: new Date().toISOString(),
  }
  const headerBytes = encodeHeader(header)
  const aad = createHash('sha256').update(headerBytes).digest()
  const queue = new ByteQueue()
  let counter = 0
  /** Encrypts one record, part by part, pushing each piece of ciphertext as it comes. */
  const seal = (stream: Transform, plain: Buffer[], final: boolean): void => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, counter++, final))
    cipher.setAAD(aad)
    for (const part of plain) stream.push(cipher.update(part))
    const last = cipher.final()
    stream.push(last.length ? Buffer.concat([last, cipher.getAuthTag()]) : cipher.getAuthTag())
  }
  const stream = new Transform({
    construct(callback) {
      this.push(headerBytes)
      callback()
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      queue.push(chunk)
      // Keep the last (possibly partial) chunk back: only at the end do we know it is final.
      while (queue.length > chunkSize) seal(this, queue.takeParts(chunkSize), false)
      callback()
    },
    flush(callback: TransformCallback) {
      seal(this, queue.takeParts(queue.length), true)
      key.fill(0)
      callback()
    },
  })
  return Object.assign(stream, { sealedKey: header.sealedKey })
}

function encodeHeader(header: BackupFileHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(json.length)
  return Buffer.concat([magic, length, json])
}

export interface DecryptorOptions {
  /**
   * The catalog's copy of the sealed data key (`backups.data_key_sealed`), re-sealed by key
   * rotation: it opens when the key id of the file's header has left the keyring.
   */
  catalogSealedKey?: string | null
}

/**
 * The data key from whichever sealed copy the keyring opens: the catalog's (re-sealed by
 * rotation) or the header's. When both open they must be the same key; either way the
 * records' tags then prove it is this file's key (a wrong key fails record 0).
 */
function openDataKey(sealer: SecretSealer, headerSealed: string, catalogSealed: string | null | undefined): Buffer {
  const open = (sealed: string): Buffer | Error => {
    try {
      return Buffer.from(sealer.open(sealed), 'base64')
    } catch (error) {
      return error as Error
    }
  }
  const fromHeader = open(String(headerSealed))
  const fromCatalog = catalogSealed ? open(catalogSealed) : undefined
  if (Buffer.isBuffer(fromHeader) && Buffer.isBuffer(fromCatalog) && !fromHeader.equals(fromCatalog)) {
    throw new BackupFileError("the catalog's copy of the data key differs from the file's: the file was swapped or the catalog row altered")
  }
  if (Buffer.isBuffer(fromCatalog)) return fromCatalog
  if (Buffer.isBuffer(fromHeader)) return fromHeader
  throw new BackupFileError(`the data key cannot be opened: ${fromHeader.message}`, { cause: fromHeader })
}

/**
 * The length of the header JSON once the queue holds the file's prefix (magic bytes and
 * length), undefined before; a prefix that is not ours is refused.
 */
function headerLengthOf(queue: ByteQueue): number | undefined {
  if (queue.length < prefixLength) return undefined
  const prefix = queue.peek(prefixLength)
  if (!prefix.subarray(0, magic.length).equals(magic)) throw new BackupFileError('not a tenantd backup file (wrong magic bytes)')
  const length = prefix.readUInt32BE(magic.length)
  if (length > maxHeaderLength) throw new BackupFileError('not a tenantd backup file (header too large)')
  return length
}

function parseHeader(json: Buffer): BackupFileHeader {
  try {
    return JSON.parse(json.toString('utf8')) as BackupFileHeader
  } catch (cause) {
    throw new BackupFileError('the backup file header is not readable JSON: the file is damaged', { cause })
  }
}

/**
 * Reads only the header of a backup file (the first few hundred bytes) and lets go of the
 * stream: key rotation takes the sealed data key of a backup whose catalog row lacks it.
 *
 * @example
 *   const header = await readBackupHeader(await storage.read(row.storage_key))
 */
export async function readBackupHeader(source: NodeJS.ReadableStream & { destroy?(): void }): Promise<BackupFileHeader> {
  const queue = new ByteQueue()
  try {
    for await (const chunk of source) {
      queue.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
      const length = headerLengthOf(queue)
      if (length === undefined || queue.length < prefixLength + length) continue
      return parseHeader(queue.peek(prefixLength + length).subarray(prefixLength))
    }
    throw new BackupFileError('the file ends inside its header: it is truncated or not a backup file')
  } finally {
    source.destroy?.()
  }
}

/**
 * Decrypts and authenticates a backup file stream back into the pg_dump output. Errors
 * (BackupFileError) name what is wrong: not a backup file, another tenant's or backup's
 * file, a key not in the keyring, a record that fails authentication, a truncated file.
 *
 * @example
 *   await pipeline(storage.read(key), createBackupDecryptor(sealer, { tenantId, backupId }), restore.stdin)
 */
export function createBackupDecryptor(sealer: SecretSealer, expected: BackupIdentity, options: DecryptorOptions = {}): Transform {
  const queue = new ByteQueue()
  let state: { key: Buffer; prefix: Buffer; aad: Buffer; recordSize: number } | undefined
  let counter = 0
  /**
   * Decrypts one record part by part; its plaintext is handed on only once the record's tag
   * proved it (never an unauthenticated byte to pg_restore).
   */
  const open = (record: Buffer[], final: boolean): Buffer[] => {
    const { key, prefix, aad } = state!
    try {
      const { body, tail } = splitTail(record, tagLength)
      const decipher = createDecipheriv('aes-256-gcm', key, nonce(prefix, counter, final))
      decipher.setAAD(aad)
      decipher.setAuthTag(tail)
      const plain = body.map((part) => decipher.update(part))
      plain.push(decipher.final())
      counter++
      return plain
    } catch (cause) {
      throw new BackupFileError(
        final
          ? `record ${counter}, the last one, failed authentication as the final record: the file is truncated or altered`
          : `record ${counter} failed authentication: the file was altered (a flipped bit or a spliced file)`,
        { cause }
      )
    }
  }
  /** Hands on a record's plaintext, once open() has proved it. */
  const release = (stream: Transform, plain: Buffer[]): void => {
    for (const part of plain) if (part.length) stream.push(part)
  }
  const readHeader = (): boolean => {
    const length = headerLengthOf(queue)
    if (length === undefined || queue.length < prefixLength + length) return false
    const head = queue.take(prefixLength)
    const json = queue.take(length)
    const header = parseHeader(json)
    if (header.format !== 'tenantd-backup' || header.version !== 1 || header.cipher !== 'aes-256-gcm') {
      throw new BackupFileError(`unsupported backup file format ${String(header.format)} v${String(header.version)}`)
    }
    if (header.tenantId !== expected.tenantId || header.backupId !== expected.backupId) {
      throw new BackupFileError(
        `the file is backup ${String(header.backupId)} of tenant ${String(header.tenantId)}, not backup ${expected.backupId} of tenant ${expected.tenantId}: it was swapped or misplaced`
      )
    }
    const chunkSize = Number(header.chunkSize)
    if (!Number.isInteger(chunkSize) || chunkSize < 1024 || chunkSize > 16 * 1024 * 1024) throw new BackupFileError('the backup file header has an invalid chunk size')
    const key = openDataKey(sealer, header.sealedKey, options.catalogSealedKey)
    const prefix = Buffer.from(header.noncePrefix, 'base64')
    if (key.length !== 32 || prefix.length !== 7) throw new BackupFileError('the backup file header has an invalid key or nonce')
    const aad = createHash('sha256').update(Buffer.concat([head, json])).digest()
    state = { key, prefix, aad, recordSize: chunkSize + tagLength }
    return true
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        queue.push(chunk)
        if (!state && !readHeader()) return callback()
        // Hold back the last record: only at the end of the stream do we know it must be final.
        while (queue.length > state!.recordSize) release(this, open(queue.takeParts(state!.recordSize), false))
        callback()
      } catch (error) {
        callback(error as Error)
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!state) throw new BackupFileError('the file ends inside its header: it is truncated or not a backup file')
        if (queue.length < tagLength) throw new BackupFileError(`the file ends at record ${counter} without its authenticated final record: it is truncated`)
        release(this, open(queue.takeParts(queue.length), true))
        state.key.fill(0)
        callback()
      } catch (error) {
        callback(error as Error)
      }
    },
  })
}
