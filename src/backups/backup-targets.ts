import { BackupFileMissing } from '../errors.js'
import { storageTarget, type BackupStorage, type BackupStorageConfig } from './backup-storage.js'
import { FileBackupStorage } from './file-backup-storage.js'
import { S3BackupStorage } from './s3-backup-storage.js'

/**
 * The storage new backups go to (TENANTD_BACKUP_STORAGE), and the way back to older ones:
 * a backup is read from the target recorded with it. A local directory can always be opened;
 * an S3 target only when it is the configured one (its credentials are).
 *
 * @example
 *   const targets = new BackupTargets(config.backupStorage)
 *   await targets.current.write(key, body)
 *   const storage = targets.forTarget(row.storage_target)
 */
export class BackupTargets {
  readonly current: BackupStorage

  constructor(config: BackupStorageConfig) {
    this.current = config.kind === 'file' ? new FileBackupStorage(config.directory) : new S3BackupStorage(config)
    if (this.current.target !== storageTarget(config)) throw new Error('backup target mismatch')
  }

  forTarget(target: string): BackupStorage {
    if (target === this.current.target) return this.current
    if (target.startsWith('file://')) return new FileBackupStorage(target.slice('file://'.length))
    throw new BackupFileMissing(
      `this backup is stored in ${target}, but this tenantd writes to ${this.current.target}; point TENANTD_BACKUP_STORAGE (and its credentials) at ${target} to read it`
    )
  }

  close(): void {
    this.current.close()
  }
}
