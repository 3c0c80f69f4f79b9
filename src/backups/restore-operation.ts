import { access } from 'node:fs/promises'
import path from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { escapeIdentifier } from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow } from '../catalog/catalog-schema.js'
import { BackupNewerThanCode, BackupNotRestorable } from '../errors.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { streamBackupToPgRestore, type BackupReaderDeps } from './backup-reader.js'
import type { BackupRecords } from './backup-records.js'
import type { BackupTargets } from './backup-targets.js'
import { compareRowCounts, readInventory } from './database-inventory.js'
import { openDatabase, swapDatabases, swapState } from './database-swap.js'

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

/** What a swap under a freeze needs (restore and undo alike). */
export type SwapDeps = Pick<RestoreOperationDeps, 'catalog' | 'tenants' | 'hosts' | 'evictPools'>

/**
 * How long a freeze holds at most. A swap takes a second or two (at most the swap's 10 s
 * drain and a retry); a restore that dies mid-swap must not keep its tenant answering 503
 * for longer than this: past it, every replica ignores the freeze.
 */
export const freezeSeconds = 30

/**
 * Freezes a tenant for at most `freezeSeconds`: every replica answers its traffic 503 with
 * Retry-After (the row update's NOTIFY reloads each replica's cached record; this replica's
 * is dropped right here). Set again by every attempt, so a resumed swap has a fresh bound.
 *
 * @example
 *   await freezeTenant(deps, tenant.id, 'restore')
 */
export async function freezeTenant(deps: Pick<SwapDeps, 'catalog' | 'tenants'>, tenantId: string, reason: string): Promise<void> {
  await deps.catalog
    .updateTable('tenants')
    .set({ frozen_until: sql<Date>`now() + make_interval(secs => ${freezeSeconds})`, frozen_reason: reason, updated_at: new Date() })
    .where('id', '=', tenantId)
    .execute()
  deps.tenants.invalidate(tenantId)
}

/**
 * Ends a freeze set for `reason` (another reason's freeze stays) and touches the tenant row
 * either way: the NOTIFY makes every replica reload the tenant and evict its pool, so no
 * connection to a swapped-out database is handed out again.
 */
export async function unfreezeTenant(deps: Pick<SwapDeps, 'catalog' | 'tenants'>, tenantId: string, reason: string): Promise<void> {
  await deps.catalog
    .updateTable('tenants')
    .set({
      frozen_until: sql<Date | null>`case when frozen_reason = ${reason} then null else frozen_until end`,
      frozen_reason: sql<string | null>`case when frozen_reason = ${reason} then null else frozen_reason end`,
      updated_at: new Date(),
    })
    .where('id', '=', tenantId)
    .execute()
  deps.tenants.invalidate(tenantId)
}

/**
 * Swaps `names.restored` in under the tenant's database name, keeping the current one as
 * `names.previous`, with the tenant frozen and its pools evicted first. The caller records
 * the result, then unfreezes. Idempotent like swapDatabases().
 */
export async function swapUnderFreeze(deps: SwapDeps, tenant: TenantRecord, names: { restored: string; previous: string }, reason: string): Promise<void> {
  await freezeTenant(deps, tenant.id, reason)
  await deps.evictPools(tenant.id)
  await deps.hosts.withAdminClient(tenant.host_id, (client) => swapDatabases(client, { current: tenant.database_name, ...names }))
  await deps.evictPools(tenant.id)
}

/**
 * Puts a tenant back on the database it had before a swap of `names`, whatever the attempt
 * got to: swapped (killed after the renames) → swapped back; stopped half-way (the current
 * database closed to connections) → opened again. Then `names.restored` (whatever database
 * the swap would have brought in) is dropped when `drop` says so, and the freeze ends.
 * Idempotent: a rollback that is itself interrupted is simply run again.
 */
export async function revertSwap(deps: SwapDeps, tenantId: string, names: { restored: string; previous: string }, reason: string, drop: boolean): Promise<'swapped back' | 'not swapped'> {
  const tenant = await deps.tenants.get(tenantId)
  const state = await deps.hosts.withAdminClient(tenant.host_id, (client) => swapState(client, names))
  if (state === 'after') {
    await swapUnderFreeze(deps, tenant, { restored: names.previous, previous: names.restored }, reason)
  }
  await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
    await openDatabase(client, tenant.database_name)
    if (drop) await dropDatabase(client, names.restored)
  })
  await unfreezeTenant(deps, tenant.id, reason)
  return state === 'after' ? 'swapped back' : 'not swapped'
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
 * snapshot) → swapDatabase (the tenant frozen, current renamed to `<db>_pre_restore_<ts>` and
 * kept, restored renamed to `<db>`, sessions ended, pools evicted everywhere, freeze ended).
 * Until the swap the tenant keeps serving from its untouched database. A failure, and a
 * rollback, put the tenant back on that database (swapping back if the renames had
 * happened, opening it again if the swap stopped half-way) and drop the restored one, so
 * nothing stray remains. A retry resumes at the recorded step and restores again if that
 * database was dropped meanwhile.
 *
 * @example
 *   operations.register(restoreHandler(deps))
 */
export function restoreHandler(deps: RestoreOperationDeps): OperationHandler<RestoreParams> {
  const load = async (context: StepContext<RestoreParams>) => {
    const tenant = await deps.tenants.get(context.operation.tenant_id!)
    const backup = await deps.records.get(tenant.id, context.params.backupId)
    return { tenant, backup }
  }
  const restoredConnection = (tenant: TenantRecord, database: string) => {
    const config = tenantClientConfig(tenant, deps.sealer)
    return { host: config.host!, port: config.port!, database, user: config.user, password: config.password, connectionTimeoutMillis: 5_000 }
  }
  const names = (params: RestoreParams) => ({ restored: params.restoredDatabase, previous: params.previousDatabase })

  /** Fills the restored database from scratch: a half-filled one from a crashed attempt goes first. */
  const restoreInto = async (context: StepContext<RestoreParams>, tenant: TenantRecord, backup: BackupRow) => {
    const restored = context.params.restoredDatabase
    await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
      await dropDatabase(client, restored)
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
  }

  const compareWithBackup = async (tenant: TenantRecord, backup: BackupRow, database: string) => {
    const client = new pg.Client(restoredConnection(tenant, database))
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
  }

  /** A retry after a failure (which dropped the restored database) restores it again first. */
  const ensureRestored = async (context: StepContext<RestoreParams>, tenant: TenantRecord, backup: BackupRow) => {
    const state = await deps.hosts.withAdminClient(tenant.host_id, (client) => swapState(client, names(context.params)))
    if (state !== 'neither') return state
    context.log.info({ database: context.params.restoredDatabase }, 'the restored database is gone (an earlier attempt failed); restoring again')
    await restoreInto(context, tenant, backup)
    await compareWithBackup(tenant, backup, context.params.restoredDatabase)
    return 'before' as const
  }

  const revert = async (context: StepContext<RestoreParams>) => {
    const outcome = await revertSwap(deps, context.operation.tenant_id!, names(context.params), 'restore', true)
    // A swap that was undone is no restore: its record goes (the kept name no longer exists).
    await deps.catalog.deleteFrom('backup_restores').where('operation_id', '=', context.operation.id).execute()
    context.log.info({ outcome, database: context.params.restoredDatabase }, 'restore reverted; the tenant is on its previous database')
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
          await restoreInto(context, tenant, backup)
        },
      },
      {
        name: 'compareRowCounts',
        async run(context) {
          const { tenant, backup } = await load(context)
          if ((await ensureRestored(context, tenant, backup)) === 'before') await compareWithBackup(tenant, backup, context.params.restoredDatabase)
        },
      },
      {
        name: 'swapDatabase',
        async run(context) {
          const { tenant, backup } = await load(context)
          const { previousDatabase } = context.params
          if ((await ensureRestored(context, tenant, backup)) === 'before') {
            await swapUnderFreeze(deps, tenant, names(context.params), 'restore')
          }
          const recorded = await deps.catalog.selectFrom('backup_restores').select('id').where('operation_id', '=', context.operation.id).executeTakeFirst()
          if (!recorded) {
            await deps.catalog
              .insertInto('backup_restores')
              .values({ tenant_id: tenant.id, backup_id: backup.id, operation_id: context.operation.id, database_name: tenant.database_name, previous_database: previousDatabase })
              .execute()
          }
          await unfreezeTenant(deps, tenant.id, 'restore')
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
      await revert(context)
    },
    async rollback(context) {
      await revert(context)
    },
  }
}
