import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Readable } from 'node:stream'
import { BackupFileMissing } from '../errors.js'
import { storageTarget, type BackupStorage, type BackupStorageConfig } from './backup-storage.js'

/** 8 MiB parts, two in flight: at most ~16 MiB of a backup in memory, whatever its size. */
const partSize = 8 * 1024 * 1024
const queueSize = 2

/**
 * Backup files in S3-compatible object storage (AWS S3, MinIO, Ceph, R2, ...). Writes are
 * streamed multipart uploads: the object appears only when the upload completes; a failed
 * upload is aborted, so no part of it stays billed or visible.
 *
 * @example
 *   const storage = new S3BackupStorage({ kind: 's3', bucket: 'backups', prefix: 'tenantd', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId, secretAccessKey, forcePathStyle: true })
 */
export class S3BackupStorage implements BackupStorage {
  readonly target: string
  readonly #client: S3Client
  readonly #bucket: string
  readonly #prefix: string

  constructor(config: Extract<BackupStorageConfig, { kind: 's3' }>) {
    this.target = storageTarget(config)
    this.#bucket = config.bucket
    this.#prefix = config.prefix
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.accessKeyId && config.secretAccessKey ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } } : {}),
      // Checksums only where S3 requires them: many S3-compatible servers do not understand
      // the SDK's default CRC trailers. The file carries its own SHA-256 and GCM tags anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
  }

  #key(key: string): string {
    return this.#prefix ? `${this.#prefix}/${key}` : key
  }

  async write(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: this.#key(key), Body: body, ContentType: 'application/octet-stream' },
      partSize,
      queueSize,
      leavePartsOnError: false,
    })
    // A failing source (pg_dump died) must fail the upload, not leave it waiting for bytes.
    const failed = new Promise<never>((_resolve, reject) => {
      body.once('error', (error) => {
        void upload.abort().catch(() => {})
        reject(error)
      })
    })
    await Promise.race([upload.done(), failed])
  }

  async read(key: string): Promise<Readable> {
    try {
      const result = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }))
      const body = result.Body
      if (!body) throw new BackupFileMissing(`the backup object ${key} in ${this.target} has no body`)
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>)
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new BackupFileMissing(`the backup object ${key} is not in ${this.target}`)
      }
      throw error
    }
  }

  /** S3 answers 204 for a missing key; some compatible servers answer 404, which is as good. */
  async remove(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }))
    } catch (error) {
      const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } }
      // Not NoSuchBucket: a missing bucket is a misconfiguration, not a deleted file.
      if (name === 'NoSuchKey' || (name === 'NotFound' && $metadata?.httpStatusCode === 404)) return
      throw error
    }
  }

  close(): void {
    this.#client.destroy()
  }
}
