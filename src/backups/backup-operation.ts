import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationHandler } from '../operations/operation-runner.js'
import type { TenantDirectory } from '../tenancy/tenant-directory.js'
import type { BackupRecords } from './backup-records.js'
import type { BackupTargets } from './backup-targets.js'
import { verifyBackup } from './backup-verifier.js'
import { writeBackup, type BackupWriterDeps } from './backup-writer.js'

export interface BackupOperationDeps extends BackupWriterDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  records: BackupRecords
  targets: BackupTargets
}

export interface BackupParams {
  backupId: string
}

/** Progress is written at most this often: a fast dump must not become a stream of catalog updates. */
const progressEveryMs = 500

/**
 * The `backup` operation: dumpDatabase (pg_dump → encrypt → storage, recorded as
 * `completed` with size, checksum, versions, row counts and migrations) → verifyBackup (read
 * back and checked: `verified`, or `failed` with the reason). Both steps are idempotent: a
 * retried dump overwrites the same key (visible only when whole), a verified backup is not
 * verified again.
 *
 * @example
 *   operations.register(backupHandler(deps))
 */
export function backupHandler(deps: BackupOperationDeps): OperationHandler<BackupParams> {
  return {
    kind: 'backup',
    steps: [
      {
        name: 'dumpDatabase',
        async run(context) {
          const backup = await deps.records.byId(context.params.backupId)
          if (backup.state === 'completed' || backup.state === 'verified') return
          await deps.records.setState(backup.id, 'running')
          deps.tenants.invalidate(backup.tenant_id)
          const tenant = await deps.tenants.get(backup.tenant_id)
          let last = 0
          const written = await writeBackup(deps, deps.targets.forTarget(backup.storage_target), tenant, backup, (done, estimate) => {
            if (Date.now() - last < progressEveryMs) return
            last = Date.now()
            // pg_database_size over-estimates a compressed dump: this climbs to 80 at most.
            void context.progress(5 + Math.min(75, (75 * done) / Math.max(1, estimate))).catch(() => {})
          })
          await deps.catalog
            .updateTable('backups')
            .set({
              state: 'completed',
              error: null,
              size_bytes: written.sizeBytes,
              sha256: written.sha256,
              dump_bytes: written.dumpBytes,
              server_version: written.serverVersion,
              pg_dump_version: written.pgDumpVersion,
              row_counts: JSON.stringify(written.rowCounts),
              migrations: JSON.stringify(written.migrations),
              data_key_sealed: written.dataKeySealed,
              completed_at: new Date(),
            })
            .where('id', '=', backup.id)
            .execute()
          context.log.info({ backupId: backup.id, database: backup.database_name, bytes: written.sizeBytes }, 'backup written')
        },
      },
      {
        name: 'verifyBackup',
        async run(context) {
          const backup = await deps.records.byId(context.params.backupId)
          if (backup.state === 'verified') return
          await context.progress(80)
          const result = await verifyBackup(deps, backup)
          if (!result.ok) throw new Error(`backup ${backup.id} failed verification: ${result.reason}`)
          context.log.info({ backupId: backup.id, entries: result.entries }, 'backup verified')
        },
      },
    ],
    async onFailure(context, error) {
      const backup = await deps.records.byId(context.params.backupId)
      if (backup.state === 'running' || backup.state === 'completed') {
        await deps.records.setState(backup.id, 'failed', { error: `${context.operation.step ?? 'backup'}: ${error.message}`.slice(0, 1000) })
      }
    },
  }
}
