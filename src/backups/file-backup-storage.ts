import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BackupFileMissing } from '../errors.js'
import type { BackupStorage } from './backup-storage.js'

/**
 * Backup files in a local directory. A file is written as `<name>.partial-<random>`, synced,
 * then renamed into place: the rename is atomic, so a reader sees the whole file or none.
 * Files are created 0600 (they are encrypted, but nobody else needs to read them).
 *
 * @example
 *   const storage = new FileBackupStorage('/var/lib/tenantd/backups')
 */
export class FileBackupStorage implements BackupStorage {
  readonly target: string

  constructor(readonly directory: string) {
    this.target = `file://${directory}`
  }

  #path(key: string): string {
    const full = path.resolve(this.directory, key)
    // Keys are made by tenantd, but a key that escapes the directory is a bug, never a path.
    if (!full.startsWith(path.resolve(this.directory) + path.sep)) throw new Error(`backup key "${key}" leaves the backup directory`)
    return full
  }

  async write(key: string, body: Readable): Promise<void> {
    const file = this.#path(key)
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const partial = `${file}.partial-${randomBytes(4).toString('hex')}`
    try {
      await pipeline(body, createWriteStream(partial, { mode: 0o600 }))
      const handle = await open(partial, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(partial, file)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
  }

  async read(key: string): Promise<Readable> {
    const file = this.#path(key)
    const stream = createReadStream(file)
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve())
      stream.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new BackupFileMissing(`the backup file ${key} is not in ${this.target}`) : error)
      )
    })
    return stream
  }

  async remove(key: string): Promise<void> {
    await rm(this.#path(key), { force: true })
  }

  close(): void {}
}
