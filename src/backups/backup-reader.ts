import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { execa } from 'execa'
import type { BackupRow } from '../catalog/catalog-schema.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { BackupFileError, createBackupDecryptor } from './backup-cipher.js'
import type { BackupStorage } from './backup-storage.js'
import { createDigestStream } from './byte-digest-stream.js'
import { pgToolPath, stderrTail, type PgConnection, pgToolEnv } from './pg-client-tools.js'

export interface BackupReaderDeps {
  sealer: SecretSealer
  pgBinDir: string | undefined
}

/**
 * Streams a stored backup into `pg_restore` (with `args`, e.g. `--list`, or `-d db ...`):
 * storage → SHA-256 of the stored bytes → decryption and authentication of every record →
 * pg_restore's stdin. No temporary file, no whole backup in memory. Throws BackupFileError
 * when the file is damaged, truncated, foreign or its checksum differs from the catalog's,
 * and a plain Error when pg_restore fails. Resolves with pg_restore's stdout.
 *
 * @example
 *   const toc = await streamBackupToPgRestore(deps, storage, row, ['--list'])
 */
export async function streamBackupToPgRestore(
  deps: BackupReaderDeps,
  storage: BackupStorage,
  backup: BackupRow,
  args: string[],
  connection?: PgConnection,
  onBytes?: (stored: number) => void
): Promise<string> {
  const source = await storage.read(backup.storage_key)
  const stored = createDigestStream(onBytes)
  // The catalog's copy of the data key opens once rotation removed the header's key id.
  const decrypt = createBackupDecryptor(deps.sealer, { tenantId: backup.tenant_id, backupId: backup.id }, { catalogSealedKey: backup.data_key_sealed })
  const child = execa(pgToolPath(deps.pgBinDir, 'pg_restore'), args, {
    env: connection ? pgToolEnv(connection) : { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    extendEnv: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    maxBuffer: 64 * 1024 * 1024,
  })
  const [streamed, restored] = await Promise.allSettled([pipeline(source, stored, decrypt, feedThenDrain(child.stdin)), child])
  // The file's own problem explains a pg_restore that choked on a cut-off stream: report it first.
  if (streamed.status === 'rejected' && streamed.reason instanceof BackupFileError) throw streamed.reason
  if (streamed.status === 'fulfilled') {
    if (backup.size_bytes !== null && stored.bytes !== Number(backup.size_bytes)) {
      throw new BackupFileError(`the stored file has ${stored.bytes} bytes, the catalog recorded ${backup.size_bytes}`)
    }
    if (backup.sha256 !== null && stored.digest() !== backup.sha256) {
      throw new BackupFileError(`the SHA-256 of the stored file (${stored.digest().slice(0, 16)}…) differs from the recorded ${backup.sha256.slice(0, 16)}…`)
    }
  }
  if (restored.status === 'rejected') {
    const error = restored.reason as { exitCode?: number; stderr?: unknown; message?: string }
    throw new Error(`pg_restore failed (exit code ${error.exitCode ?? '?'}): ${stderrTail(error.stderr) || error.message?.split('\n')[0]}`)
  }
  if (streamed.status === 'rejected') throw streamed.reason as Error
  return String(restored.value.stdout)
}

/**
 * Writes into a child's stdin while the child reads it, then keeps consuming: `pg_restore
 * --list` exits once it has read the table of contents, but every remaining record must
 * still be read, hashed and authenticated for the file to count as verified.
 */
function feedThenDrain(stdin: NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean }): Writable {
  let open = true
  stdin.on('error', () => {
    open = false
  })
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!open || stdin.destroyed) return callback()
      // Waiting for the child's write callback is the back-pressure: no unbounded buffering.
      stdin.write(chunk, (error) => {
        if (error) open = false
        callback()
      })
    },
    final(callback) {
      if (open && !stdin.destroyed && !stdin.writableEnded) stdin.end()
      callback()
    },
    destroy(error, callback) {
      if (!stdin.destroyed) (stdin as unknown as { destroy(): void }).destroy()
      callback(error)
    },
  })
}
