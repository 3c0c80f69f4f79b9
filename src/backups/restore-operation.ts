import { access } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { escapeIdentifier } from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow } from '../catalog/catalog-schema.js'
import { BackupNewerThanCode, BackupNotRestorable } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { streamBackupToPgRestore, type BackupReaderDeps } from './backup-reader.js'
import type { BackupRecords } from './backup-records.js'
import type { BackupTargets } from './backup-targets.js'
import { compareRowCounts, readInventory } from './database-inventory.js'
import { swapDatabases } from './database-swap.js'

export interface RestoreOperationDeps extends BackupReaderDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  hosts: HostRegistry
  records: BackupRecords
  targets: BackupTargets
  audit: AuditLog
  /** tenant-migrations/ (base/ and modules/). */
  migrationsDir: string
  /** Closes this replica's pool of the tenant (others follow the catalog notification). */
  evictPools(tenantId: string): Promise<void>
}

export interface RestoreParams {
  backupId: string
  /** The new database the backup is restored into, then renamed to the tenant's name. */
  restoredDatabase: string
  /** What the tenant's current database is renamed to, and kept as, for undo. */
  previousDatabase: string
}

/**
 * Refuses a backup that cannot be restored: not verified (running, failed, pruned), or
 * holding migrations this tenantd's tenant-migrations/ does not have (taken by newer code:
 * restoring it would leave a schema the code does not know).
 */
export async function assertRestorable(backup: BackupRow, migrationsDir: string): Promise<void> {
  if (backup.state !== 'verified') {
    throw new BackupNotRestorable(
      `backup ${backup.id} is ${backup.state}${backup.error ? ` (${backup.error})` : ''}; only verified backups are restored. ` +
        (backup.state === 'completed' ? `Verify it first: \`tenantctl backup verify <tenant> ${backup.id}\`.` : 'Choose another one with `tenantctl backup list <tenant>`.')
    )
  }
  const unknown: string[] = []
  for (const { scope, name } of backup.migrations ?? []) {
    const safe = /^[a-z0-9][a-z0-9_-]{0,59}$/.test(scope) && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(name)
    const file = path.join(migrationsDir, scope === 'base' ? 'base' : path.join('modules', scope), name)
    if (!safe || !(await access(file).then(() => true, () => false))) unknown.push(`${scope}/${name}`)
  }
  if (unknown.length) {
    throw new BackupNewerThanCode(
      `backup ${backup.id} was taken with migrations this tenantd does not have (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}); restore it with a tenantd at least as new as ${backup.tenantd_version}`
    )
  }
}

/**
 * The `restore` operation, steps in order: checkBackup → restoreDatabase (a NEW database on
 * the tenant's host, owned by the tenant's role, filled by pg_restore from the decrypted
 * stream) → compareRowCounts (every table's rows equal to those recorded in the backup's
 * snapshot) → swapDatabase (current renamed to `<db>_pre_restore_<ts>` and kept, restored
 * renamed to `<db>`, sessions ended, pools evicted everywhere). Until the swap the tenant
 * keeps serving from its untouched database; a failure before it drops the half-restored
 * database, so nothing stray remains.
 *
 * @example
 *   operations.register(restoreHandler(deps))
 */
export function restoreHandler(deps: RestoreOperationDeps): OperationHandler<RestoreParams> {
  const load = async (context: StepContext<RestoreParams>) => {
    const tenantId = context.operation.tenant_id!
    deps.tenants.invalidate(tenantId)
    const tenant = await deps.tenants.get(tenantId)
    const backup = await deps.records.get(tenantId, context.params.backupId)
    return { tenant, backup }
  }
  const restoredConnection = (tenant: TenantRecord, database: string) => {
    const config = tenantClientConfig(tenant, deps.sealer)
    return { host: config.host!, port: config.port!, database, user: tenant.role_name, password: config.password, connectionTimeoutMillis: 5_000 }
  }
  const dropRestored = async (context: StepContext<RestoreParams>) => {
    const tenant = await deps.tenants.get(context.operation.tenant_id!)
    await deps.hosts.withAdminClient(tenant.host_id, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(context.params.restoredDatabase)} WITH (FORCE)`)
    )
  }

  return {
    kind: 'restore',
    steps: [
      {
        name: 'checkBackup',
        async run(context) {
          const { backup } = await load(context)
          await assertRestorable(backup, deps.migrationsDir)
        },
      },
      {
        name: 'restoreDatabase',
        async run(context) {
          const { tenant, backup } = await load(context)
          const restored = context.params.restoredDatabase
          await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
            // From scratch on every attempt: a half-filled database from a crashed one goes.
            await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(restored)} WITH (FORCE)`)
            await client.query(`CREATE DATABASE ${escapeIdentifier(restored)} OWNER ${escapeIdentifier(tenant.role_name)} ENCODING 'UTF8' TEMPLATE template0`)
            await client.query(`REVOKE ALL ON DATABASE ${escapeIdentifier(restored)} FROM PUBLIC`)
          })
          const size = Math.max(1, Number(backup.size_bytes ?? 1))
          let last = 0
          // As the tenant's role (owner of the new database): every object ends up owned by it,
          // whoever owned it in the dump. No ACLs from the dump: tenant databases grant nothing.
          await streamBackupToPgRestore(
            deps,
            deps.targets.forTarget(backup.storage_target),
            backup,
            ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${restored}`],
            restoredConnection(tenant, restored),
            (bytes) => {
              if (Date.now() - last < 500) return
              last = Date.now()
              void context.progress(25 + (50 * bytes) / size).catch(() => {})
            }
          )
          const client = new pg.Client(restoredConnection(tenant, restored))
          client.on('error', () => {})
          await client.connect()
          try {
            await client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC')
          } finally {
            await client.end().catch(() => {})
          }
        },
      },
      {
        name: 'compareRowCounts',
        async run(context) {
          const { tenant, backup } = await load(context)
          const client = new pg.Client(restoredConnection(tenant, context.params.restoredDatabase))
          client.on('error', () => {})
          await client.connect()
          try {
            await client.query('begin isolation level repeatable read read only')
            const { rowCounts } = await readInventory(client)
            await client.query('commit')
            const differences = compareRowCounts(backup.row_counts ?? {}, rowCounts)
            if (differences.length) {
              throw new Error(`the restored database does not match the backup's row counts (${differences.slice(0, 5).join('; ')}); the tenant stays on its current database`)
            }
          } finally {
            await client.end().catch(() => {})
          }
        },
      },
      {
        name: 'swapDatabase',
        async run(context) {
          const { tenant, backup } = await load(context)
          const { restoredDatabase, previousDatabase } = context.params
          await deps.evictPools(tenant.id)
          await deps.hosts.withAdminClient(tenant.host_id, (client) =>
            swapDatabases(client, { current: tenant.database_name, restored: restoredDatabase, previous: previousDatabase })
          )
          const recorded = await deps.catalog.selectFrom('backup_restores').select('id').where('operation_id', '=', context.operation.id).executeTakeFirst()
          if (!recorded) {
            await deps.catalog
              .insertInto('backup_restores')
              .values({ tenant_id: tenant.id, backup_id: backup.id, operation_id: context.operation.id, database_name: tenant.database_name, previous_database: previousDatabase })
              .execute()
          }
          // Touching the tenant row notifies every replica: each evicts its pool of this
          // tenant, so no connection to the previous database is handed out again.
          await deps.catalog.updateTable('tenants').set({ updated_at: new Date() }).where('id', '=', tenant.id).execute()
          await deps.evictPools(tenant.id)
          await deps.audit.record({
            actorType: 'system',
            tenantId: tenant.id,
            action: 'tenant.restored',
            target: tenant.slug,
            details: { backupId: backup.id, previousDatabase, operationId: context.operation.id },
          })
        },
      },
    ],
    async onFailure(context) {
      await dropRestored(context)
    },
    async rollback(context) {
      await dropRestored(context)
    },
  }
}
