import type { BackupRow } from '../catalog/catalog-schema.js'
import { BackupFileError } from './backup-cipher.js'
import { streamBackupToPgRestore, type BackupReaderDeps } from './backup-reader.js'
import type { BackupRecords } from './backup-records.js'
import type { BackupTargets } from './backup-targets.js'
import { BackupFileMissing } from '../errors.js'

export interface BackupVerifierDeps extends BackupReaderDeps {
  records: BackupRecords
  targets: BackupTargets
}

/** The outcome of one verification: `reason` says what is wrong with the file. */
export type Verification = { ok: true; entries: number } | { ok: false; reason: string }

/**
 * Verifies a stored backup the way a restore would read it: the object read back from
 * storage, its size and SHA-256 against the catalog, every record decrypted and
 * authenticated (header bound to this tenant and backup), and `pg_restore --list` run on
 * the decrypted stream. Records the result: state `verified`, or `failed` with the reason
 * (a failed backup is never offered for restore). Errors other than a bad file (storage or
 * pg_restore unreachable) are thrown and leave the state alone.
 *
 * @example
 *   const result = await verifyBackup(deps, row)
 *   if (!result.ok) log.warn({ reason: result.reason }, 'backup damaged')
 */
export async function verifyBackup(deps: BackupVerifierDeps, backup: BackupRow, onBytes?: (stored: number) => void): Promise<Verification> {
  let result: Verification
  try {
    const list = await streamBackupToPgRestore(deps, deps.targets.forTarget(backup.storage_target), backup, ['--list'], undefined, onBytes)
    const entries = list.split('\n').filter((line) => /^\d+;/.test(line)).length
    result = entries > 0 ? { ok: true, entries } : { ok: false, reason: 'pg_restore --list found no entries in the decrypted dump' }
  } catch (error) {
    if (error instanceof BackupFileError) result = { ok: false, reason: error.message }
    else if (error instanceof BackupFileMissing) result = { ok: false, reason: (error as Error).message }
    else if (/^pg_restore failed/.test((error as Error).message)) result = { ok: false, reason: `the decrypted dump is not readable: ${(error as Error).message}` }
    else throw error
  }
  if (result.ok) await deps.records.setState(backup.id, 'verified', { verifiedAt: new Date() })
  else await deps.records.setState(backup.id, 'failed', { error: `verification failed: ${result.reason}`.slice(0, 1000), verifiedAt: null })
  return result
}
