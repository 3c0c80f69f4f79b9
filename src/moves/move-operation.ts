import { sql } from 'kysely'
import type pg from 'pg'
import { escapeIdentifier } from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { DbHostRow } from '../catalog/catalog-schema.js'
import { HostUnavailable } from '../errors.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import {
  advanceSlot,
  applyTransactions,
  chooseCaptureMethod,
  createSlotWithSnapshot,
  dropSlot,
  ensureAppliedMarker,
  flushWal,
  peekTransactions,
  pendingBytes,
  type CaptureMethod,
} from './logical-capture.js'
import {
  closeSourceToTenant,
  dropTargetCopy,
  dumpSchema,
  ensureRoles,
  keepSourceDatabase,
  recreateDatabase,
  reopenSourceToTenant,
  restoreSchemaSection,
  tenantConnection,
  withTenantOn,
} from './move-database.js'
import { freezeForMove, unfreezeAfterMove } from './move-freeze.js'
import { describeSchema, schemaDifferences } from './schema-compare.js'
import {
  copySequences,
  copyTable,
  digestDifferences,
  keyedRowsDigest,
  listTables,
  moveSchema,
  qualified,
  sessionsFor,
  tableDigests,
  tableKey,
  type TableDigests,
  type TenantTable,
} from './table-copy.js'

export interface MoveOperationDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  sealer: SecretSealer
  audit: AuditLog
  pgBinDir: string | undefined
  /** TENANTD_MOVE_KEEP_HOURS: how long the source database is kept for `move --rollback`. */
  keepHours: number
  /** Closes this replica's pool of the tenant (others follow the catalog notification). */
  evictPools(tenantId: string): Promise<void>
}

export interface MoveParams {
  sourceHostId: string
  targetHostId: string
  /** The logical replication slot on the source (named after the operation). */
  slot: string
  /** What the source database is renamed to, and kept as, once the tenant switched. */
  keptDatabase: string
  /** Set when this move returns a tenant to the source of an earlier move (`move --rollback`). */
  rollbackOf?: string
}

/** What a move records on its operation row (`result`) as it goes. */
export interface MoveProgress {
  method?: CaptureMethod
  methodReason?: string
  tables?: number
  copiedBytes?: number
  changesApplied?: number
  frozenAt?: string
  freezeMs?: number
  reverted?: string
  /** The freeze closed the source to the tenant's role; a revert that did not reopen it leaves this set (see stranded-moves.ts). */
  sourceClosed?: boolean
  /** The target database was created by this move (so a revert may drop it). */
  targetCreated?: boolean
  /** User triggers disabled on the target while changes are applied, enabled again at the switch. */
  disabledTriggers?: Array<{ table: string; trigger: string }>
}

/** Changes read and applied per round trip: bounds memory whatever the backlog. */
const batchSize = 2_000
/** catchUp hands over to the freeze once a round found at most this many transactions and the slot's backlog is below this much WAL. */
const smallRound = 20
const catchUpBytes = 1024 * 1024
/** A tenant writing faster than its changes apply still gets moved: after this, the freeze takes the rest. */
const catchUpMaxMs = 120_000
/** At most this many connections per side compute the per-table checksums (one per 32 MiB of tables: sessionsFor). */
const digestConnections = 4
/** Touched keys compared per round trip under the freeze. */
const keysPerRead = 5_000
/** A table with more touched keys than this is compared whole (a scan beats that many index lookups). */
const wholeTableKeys = 200_000
/** At most this many connections copy tables at once (each a source and a target session; one per 32 MiB of tables). */
const copyConnections = 3

/** Splits a list into at most n non-empty parts, round robin. */
function spread<T>(items: T[], n: number): T[][] {
  const parts: T[][] = Array.from({ length: Math.min(n, Math.max(1, items.length)) }, () => [])
  items.forEach((item, i) => parts[i % parts.length]!.push(item))
  return parts
}

/**
 * The `move` operation: the tenant's database copied to another db host while it stays
 * writable, then a short cutover. Steps, each idempotent and resumable:
 * prepareTarget (capture method chosen, roles on the target) → copySchema (the schema read
 * with pg_dump into memory while an empty database is made on the target, then its tables and
 * types restored) → copyData (logical slot created with an exported snapshot; every table
 * streamed in that snapshot with binary COPY) → createIndexes (indexes, constraints, triggers,
 * from the same archive) → catchUp (changes decoded from the slot applied while the
 * tenant writes on) → freeze (503 + Retry-After on every replica, pools evicted, the role's
 * logins refused and its sessions ended on the source) → applyFinalChanges → setSequences →
 * compareTables (the schema object by object, then row counts and checksums, both sides) →
 * switchCatalog (the tenant's host changes, NOTIFY: every replica drops its pool) → unfreeze →
 * keepSource (slot dropped, source renamed `<db>_moved_<ts>` and closed, kept
 * TENANTD_MOVE_KEEP_HOURS).
 *
 * A failure before switchCatalog puts everything back (freeze ended, source role allowed to
 * log in, slot, target database and role dropped) and a retry starts over; after it, the
 * tenant stays on the target and a retry finishes the remaining steps. Either way the tenant
 * is served from exactly one host with all its data.
 *
 * @example
 *   operations.register(moveHandler(deps))
 */
export function moveHandler(deps: MoveOperationDeps): OperationHandler<MoveParams> {
  /** The schema archive copySchema read, per operation, for createIndexes (kilobytes; gone once used or reverted). */
  const schemaArchives = new Map<string, Buffer>()
  const load = async (context: StepContext<MoveParams>) => {
    deps.tenants.invalidate(context.operation.tenant_id!)
    const tenant = await deps.tenants.get(context.operation.tenant_id!)
    const [source, target] = await Promise.all([deps.hosts.row(context.params.sourceHostId), deps.hosts.row(context.params.targetHostId)])
    const password = deps.sealer.open(tenant.password_sealed)
    const admin = deps.hosts.adminConfig(source, tenant.database_name)
    return {
      tenant,
      source,
      target,
      /** The source as pg_dump reads it: the host admin, reading as the tenant's owner role. */
      sourceConnection: { host: source.host, port: source.port, database: tenant.database_name, user: String(admin.user), password: String(admin.password), role: tenant.role_name },
      targetConnection: tenantConnection(target, tenant, password),
      switched: tenant.host_id === target.id,
    }
  }
  const progressOf = async (context: StepContext<MoveParams>): Promise<MoveProgress> => {
    const row = await deps.catalog.selectFrom('operations').select('result').where('id', '=', context.operation.id).executeTakeFirstOrThrow()
    return (row.result ?? {}) as MoveProgress
  }
  const record = async (context: StepContext<MoveParams>, fields: MoveProgress) => {
    await deps.catalog
      .updateTable('operations')
      .set({ result: sql`coalesce(result, '{}'::jsonb) || ${JSON.stringify(fields)}::jsonb` })
      .where('id', '=', context.operation.id)
      .execute()
  }
  /**
   * An admin session in the tenant's source database that reads tables as the tenant's role
   * (SET ROLE: tenant-defined code never runs with the admin's rights). Admin login works
   * while the tenant's own role is NOLOGIN under the freeze.
   */
  const onSource = <T>(source: DbHostRow, tenant: TenantRecord, fn: (client: pg.ClientBase) => Promise<T>) =>
    deps.hosts.withAdminClient(source, fn, tenant.database_name)
  const asTenant = async (client: pg.ClientBase, tenant: TenantRecord) => client.query(`SET ROLE ${escapeIdentifier(tenant.role_name)}`)
  const tablesOf = async (source: DbHostRow, tenant: TenantRecord, options?: { sizes?: boolean }) => onSource(source, tenant, (client) => listTables(client, options))

  /**
   * Row counts and checksums of every table on both sides: the source as of `snapshot` (or
   * now, under the freeze), the target as it is. Read on a few connections per side at once.
   */
  const compareWhole = async (source: DbHostRow, tenant: TenantRecord, targetConnection: ReturnType<typeof tenantConnection>, snapshot?: string) => {
    const tables = await tablesOf(source, tenant, { sizes: true })
    const targetTables = await withTenantOn(targetConnection, (client) => listTables(client, { sizes: true }))
    const digestAll = async (list: TenantTable[], read: (part: TenantTable[]) => Promise<TableDigests>) =>
      Object.assign({}, ...(await Promise.all(spread(list, sessionsFor(list, digestConnections)).map(read)))) as TableDigests
    const [a, b] = await Promise.all([
      digestAll(tables, (part) =>
        onSource(source, tenant, async (reader) => {
          await asTenant(reader, tenant)
          return tableDigests(reader, part, snapshot)
        })
      ),
      digestAll(targetTables, (part) => withTenantOn(targetConnection, (client) => tableDigests(client, part))),
    ])
    return digestDifferences(a, b)
  }

  /**
   * Compares, table by table, the rows the applied changes touched (by key, both sides read
   * through the key's index); a table truncated meanwhile, or touched in most of its rows, is
   * compared whole. Called under the freeze: nothing writes either side.
   */
  const compareTouched = (source: DbHostRow, tenant: TenantRecord, targetConnection: ReturnType<typeof tenantConnection>) =>
    // One session per side for the whole comparison: it runs under the freeze.
    onSource(source, tenant, (reader) =>
      withTenantOn(targetConnection, async (target) => {
        const [sourceList, targetList] = await Promise.all([listTables(reader), listTables(target)])
        await asTenant(reader, tenant)
        const tables = new Map(sourceList.map((t) => [tableKey(t), t]))
        const targetTables = new Set(targetList.map(tableKey))
        const differences: string[] = []
        for (const name of tables.keys()) if (!targetTables.has(name)) differences.push(`${name}: missing on the target`)
        for (const name of targetTables) if (!tables.has(name)) differences.push(`${name}: only on the target`)
        if (differences.length) return differences
        const { rows: touched } = await target.query<{ tbl: string; keys: number; whole: boolean }>(
          `select tbl, count(*)::int as keys, bool_or(key = '"*"') as whole from ${escapeIdentifier(moveSchema)}.touched group by tbl`
        )
        const whole = touched.filter((t) => t.whole || t.keys > wholeTableKeys).map((t) => tables.get(t.tbl)).filter((t): t is TenantTable => t !== undefined)
        if (whole.length) {
          const [a, b] = await Promise.all([tableDigests(reader, whole), tableDigests(target, whole)])
          differences.push(...digestDifferences(a, b))
        }
        for (const { tbl } of touched.filter((t) => !t.whole && t.keys <= wholeTableKeys && tables.has(t.tbl))) {
          const table = tables.get(tbl)!
          let after: string | null = null
          for (;;) {
            const { rows }: pg.QueryResult<{ key: Record<string, string | null>; text: string }> = await target.query(
              `select key, key::text as text from ${escapeIdentifier(moveSchema)}.touched where tbl = $1 and ($2::jsonb is null or key > $2::jsonb) order by key limit ${keysPerRead}`,
              [tbl, after]
            )
            if (rows.length === 0) break
            after = rows[rows.length - 1]!.text
            const keys = rows.map((r) => r.key)
            const [a, b] = await Promise.all([keyedRowsDigest(reader, table, keys), keyedRowsDigest(target, table, keys)])
            if (a.rows !== b.rows) differences.push(`${tbl}: of ${keys.length} rows changed during the move, ${a.rows} exist on the source and ${b.rows} on the target`)
            else if (a.checksum !== b.checksum) differences.push(`${tbl}: rows changed during the move differ between source and target`)
            if (differences.length >= 5) return differences
          }
        }
        return differences
      })
    )

  /** Applies what the slot holds, batch by batch, until it is empty or (unless `drain`) small. */
  const catchUp = async (context: StepContext<MoveParams>, source: DbHostRow, tenant: TenantRecord, targetConnection: ReturnType<typeof tenantConnection>, drain: boolean) => {
    let applied = 0
    const giveUpAt = Date.now() + catchUpMaxMs
    await onSource(source, tenant, (admin) =>
      withTenantOn(targetConnection, async (target) => {
        const tables = new Map((await listTables(admin)).map((t) => [tableKey(t), t]))
        for (;;) {
          const t0 = Date.now()
          await flushWal(admin)
          const batch = await peekTransactions(admin, context.params.slot, batchSize)
          const t1 = Date.now()
          const result = await applyTransactions(target, batch, tables)
          context.log.debug({ transactions: batch.length, changes: result.changes, decodeMs: t1 - t0, applyMs: Date.now() - t1 }, 'move changes applied')
          applied += result.changes
          if (result.lsn) await advanceSlot(admin, context.params.slot, result.lsn)
          else if (batch.length) await advanceSlot(admin, context.params.slot, batch[batch.length - 1]!.lsn)
          if (batch.length === 0) break
          // Before the freeze: go round until a round finds little left, so the frozen part is small.
          if (!drain && (batch.length <= smallRound || Date.now() > giveUpAt) && (await pendingBytes(admin, context.params.slot)) < catchUpBytes) break
        }
      })
    )
    const before = await progressOf(context)
    await record(context, { changesApplied: (before.changesApplied ?? 0) + applied })
    return applied
  }

  /**
   * Every table streamed from the source into the (emptied) target tables, in one snapshot:
   * the slot's exported snapshot for the logical method, a fresh one under the freeze for a
   * frozen copy.
   */
  const copyAll = async (context: StepContext<MoveParams>, source: DbHostRow, tenant: TenantRecord, targetConnection: ReturnType<typeof tenantConnection>, snapshot?: string) => {
    const tables = await tablesOf(source, tenant, { sizes: true })
    // Rows of an interrupted earlier attempt go first. The tables have no indexes, foreign keys
    // or triggers yet (createIndexes comes after): nothing depends on the table order.
    if (tables.length) await withTenantOn(targetConnection, (target) => target.query(`truncate ${tables.map(qualified).join(', ')}`))
    let bytes = 0
    let done = 0
    // A few connections share the work, biggest tables first; each source session imports the
    // same snapshot, so together they read one consistent state.
    await Promise.all(
      spread(tables, sessionsFor(tables, copyConnections)).map((part) =>
        onSource(source, tenant, async (reader) => {
          await reader.query('begin isolation level repeatable read read only')
          if (snapshot) await reader.query(`set transaction snapshot '${snapshot.replace(/[^0-9A-F-]/gi, '')}'`)
          await asTenant(reader, tenant)
          await withTenantOn(targetConnection, async (target) => {
            await target.query('begin')
            for (const table of part) {
              bytes += await copyTable(reader, target, table)
              done++
              await context.progress(20 + Math.round((20 * done) / tables.length)).catch(() => {})
            }
            await target.query('commit')
          })
          await reader.query('commit')
        })
      )
    )
    await record(context, { tables: tables.length, copiedBytes: bytes })
  }

  /** Everything a move made goes, and the tenant is served from its source as before. */
  const revert = async (context: StepContext<MoveParams>, why: string) => {
    schemaArchives.delete(context.operation.id)
    const { tenant, source, target, switched } = await load(context)
    if (switched) return false
    await onSource(source, tenant, (client) => dropSlot(client, context.params.slot)).catch(async (error) => {
      // The source database may be unreachable; the slot can be dropped from the admin database too.
      await deps.hosts.withAdminClient(source, (client) => dropSlot(client, context.params.slot)).catch(() => {
        throw error
      })
    })
    await deps.hosts.withAdminClient(source, (client) => reopenSourceToTenant(client, tenant))
    await record(context, { sourceClosed: false })
    await unfreezeAfterMove(deps, tenant.id)
    await deps.evictPools(tenant.id)
    const progress = await progressOf(context)
    let targetLeft = false
    if (progress.targetCreated) {
      try {
        await dropTargetCopy(deps.hosts, target, tenant)
      } catch (error) {
        // The tenant is whole on its source either way. A target that cannot be reached keeps
        // the flag, so a later rollback or retry drops (or reuses) what is left there.
        if (!(error instanceof HostUnavailable)) throw error
        targetLeft = true
        context.log.warn({ err: { message: error.message }, host: target.name }, 'the target host is unreachable; its partial copy is dropped by a later rollback or retry')
      }
    }
    await record(context, { reverted: why, targetCreated: targetLeft })
    // A retry starts over: nothing of this attempt is left to resume from.
    await deps.catalog.updateTable('operations').set({ step: 'prepareTarget' }).where('id', '=', context.operation.id).execute()
    context.log.info({ host: target.name }, 'move reverted; the tenant stays on its source host')
    return true
  }

  return {
    kind: 'move',
    steps: [
      {
        name: 'prepareTarget',
        async run(context) {
          const { tenant, source, target, switched } = await load(context)
          if (switched) return
          if (tenant.host_id !== source.id) throw new Error(`the tenant is on another host than this move's source (${tenant.host_name}); start a new move`)
          const tables = await tablesOf(source, tenant)
          const choice = await onSource(source, tenant, (client) => chooseCaptureMethod(client, tables))
          context.log.info({ method: choice.method, reason: choice.reason }, 'move capture method')
          const exists = await deps.hosts.withAdminClient(target, async (client) => ((await client.query('select 1 from pg_database where datname = $1', [tenant.database_name])).rowCount ?? 0) > 0)
          const progress = await progressOf(context)
          if (exists && !progress.targetCreated) {
            throw new Error(`db host "${target.name}" already has a database named ${tenant.database_name} that this move did not create; drop or rename it first`)
          }
          await record(context, { method: choice.method, methodReason: choice.reason, targetCreated: true })
          // The database itself is made by copySchema, which starts from an empty one each attempt.
          await ensureRoles(deps.hosts, target, tenant, deps.sealer.open(tenant.password_sealed))
        },
      },
      {
        name: 'copySchema',
        async run(context) {
          const { tenant, target, sourceConnection, targetConnection, switched } = await load(context)
          if (switched) return
          // The schema is read while the empty database is made (CREATE DATABASE is most of this step).
          const [archive] = await Promise.all([dumpSchema(deps.pgBinDir, sourceConnection), recreateDatabase(deps.hosts, target, tenant)])
          schemaArchives.set(context.operation.id, archive)
          await restoreSchemaSection(deps.pgBinDir, archive, targetConnection, 'pre-data')
          await withTenantOn(targetConnection, (client) => client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC'))
        },
      },
      {
        name: 'copyData',
        async run(context) {
          const { tenant, source, targetConnection, switched } = await load(context)
          if (switched) return
          const { method } = await progressOf(context)
          if (method !== 'logical') return
          await onSource(source, tenant, (client) => dropSlot(client, context.params.slot))
          await withTenantOn(targetConnection, (client) => client.query(`drop schema if exists ${escapeIdentifier(moveSchema)} cascade`))
          const adminConfig = deps.hosts.adminConfig(source, tenant.database_name)
          const slot = await createSlotWithSnapshot(adminConfig, context.params.slot)
          try {
            await copyAll(context, source, tenant, targetConnection, slot.snapshot)
            // The bulk is compared now, while the tenant stays writable: the copy against the
            // snapshot it was read in. The cutover then compares only the rows changed since.
            await context.progress(42).catch(() => {})
            const differences = await compareWhole(source, tenant, targetConnection, slot.snapshot)
            if (differences.length) throw new Error(`the copy on the target does not match the source (${differences.slice(0, 5).join('; ')}); the tenant stays on its source host`)
          } finally {
            await slot.close()
          }
          await withTenantOn(targetConnection, ensureAppliedMarker)
        },
      },
      {
        name: 'createIndexes',
        async run(context) {
          const { sourceConnection, targetConnection, switched } = await load(context)
          if (switched) return
          // Without logical decoding the data is copied under the freeze, and the indexes made then.
          if ((await progressOf(context)).method !== 'logical') return
          // The archive copySchema read, unless this process did not run it (a resumed move reads it again).
          const archive = schemaArchives.get(context.operation.id) ?? (await dumpSchema(deps.pgBinDir, sourceConnection))
          await restoreSchemaSection(deps.pgBinDir, archive, targetConnection, 'post-data')
          schemaArchives.delete(context.operation.id)
          // The tenant's own triggers must not fire again for changes the source already made.
          const disabled = await withTenantOn(targetConnection, disableUserTriggers)
          await record(context, { disabledTriggers: disabled })
        },
      },
      {
        name: 'catchUp',
        async run(context) {
          const { tenant, source, targetConnection, switched } = await load(context)
          if (switched || (await progressOf(context)).method !== 'logical') return
          const applied = await catchUp(context, source, tenant, targetConnection, false)
          context.log.info({ applied }, 'changes made during the copy applied')
        },
      },
      {
        name: 'freeze',
        async run(context) {
          const { tenant, source, switched } = await load(context)
          if (switched) return
          const { method } = await progressOf(context)
          await record(context, { frozenAt: new Date().toISOString(), sourceClosed: true })
          await freezeForMove(deps, tenant.id, method === 'logical' ? 'short' : 'long')
          await deps.evictPools(tenant.id)
          await deps.hosts.withAdminClient(source, (client) => closeSourceToTenant(client, tenant))
        },
      },
      {
        name: 'applyFinalChanges',
        async run(context) {
          const { tenant, source, targetConnection, switched } = await load(context)
          if (switched) return
          const { method } = await progressOf(context)
          // A resumed attempt re-asserts the freeze: its bound may have lapsed meanwhile.
          await freezeForMove(deps, tenant.id, method === 'logical' ? 'short' : 'long')
          await deps.hosts.withAdminClient(source, (client) => closeSourceToTenant(client, tenant))
          if (method === 'logical') {
            await catchUp(context, source, tenant, targetConnection, true)
            return
          }
          // From scratch each attempt: schema, all rows in one snapshot, then indexes and constraints.
          const { sourceConnection, target } = await load(context)
          const [archive] = await Promise.all([dumpSchema(deps.pgBinDir, sourceConnection), recreateDatabase(deps.hosts, target, tenant)])
          await restoreSchemaSection(deps.pgBinDir, archive, targetConnection, 'pre-data')
          await withTenantOn(targetConnection, (client) => client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC'))
          await copyAll(context, source, tenant, targetConnection)
          await restoreSchemaSection(deps.pgBinDir, archive, targetConnection, 'post-data')
        },
      },
      {
        name: 'setSequences',
        async run(context) {
          const { tenant, source, targetConnection, switched } = await load(context)
          if (switched) return
          await onSource(source, tenant, async (reader) => {
            await asTenant(reader, tenant)
            await withTenantOn(targetConnection, (target) => copySequences(reader, target))
          })
        },
      },
      {
        name: 'compareTables',
        async run(context) {
          const { tenant, source, targetConnection, switched } = await load(context)
          if (switched) return
          // The logical method compared the bulk in the copy's snapshot: under the freeze only
          // the rows the applied changes touched are compared, so the freeze does not grow with
          // the tenant's size. A frozen copy compares everything.
          const { method } = await progressOf(context)
          // Logical decoding carries rows, not DDL: a schema changed on the source since copySchema
          // (a fleet migration, the tenant's own code) would be missing on the target.
          const schemaChanged = await onSource(source, tenant, (reader) =>
            withTenantOn(targetConnection, async (target) => {
              const [a, b] = await Promise.all([describeSchema(reader), describeSchema(target)])
              return schemaDifferences(a, b)
            })
          )
          if (schemaChanged.length) {
            throw new Error(`the tenant's schema changed on the source during the move (${schemaChanged.join('; ')}); the tenant stays on its source host: start the move again (no migration should run for the tenant meanwhile)`)
          }
          const differences = method === 'logical' ? await compareTouched(source, tenant, targetConnection) : await compareWhole(source, tenant, targetConnection)
          if (differences.length) throw new Error(`the copy on the target does not match the source (${differences.slice(0, 5).join('; ')}); the tenant stays on its source host`)
        },
      },
      {
        name: 'switchCatalog',
        async run(context) {
          const { tenant, source, target, targetConnection, switched } = await load(context)
          if (switched) return
          const progress = await progressOf(context)
          await withTenantOn(targetConnection, async (client) => {
            await client.query(`drop schema if exists ${escapeIdentifier(moveSchema)} cascade`)
            for (const { table, trigger } of progress.disabledTriggers ?? []) {
              await client.query(`alter table ${table} enable trigger ${escapeIdentifier(trigger)}`)
            }
          })
          await deps.catalog.transaction().execute(async (trx) => {
            const moved = await trx
              .updateTable('tenants')
              .set({ host_id: target.id, updated_at: new Date() })
              .where('id', '=', tenant.id)
              .where('host_id', '=', source.id)
              .returning('id')
              .executeTakeFirst()
            if (!moved) throw new Error('the tenant changed host meanwhile; nothing was switched')
            await trx
              .insertInto('tenant_moves')
              .values({
                tenant_id: tenant.id,
                operation_id: context.operation.id,
                source_host_id: source.id,
                target_host_id: target.id,
                method: progress.method ?? 'frozen-copy',
                method_reason: progress.methodReason ?? null,
                database_name: tenant.database_name,
                kept_database: context.params.keptDatabase,
                rollback_until: sql<Date>`now() + make_interval(hours => ${deps.keepHours})`,
              })
              .execute()
          })
          deps.tenants.invalidate(tenant.id)
          await deps.evictPools(tenant.id)
        },
      },
      {
        name: 'unfreeze',
        async run(context) {
          const { tenant } = await load(context)
          await unfreezeAfterMove(deps, tenant.id)
          await deps.evictPools(tenant.id)
          const progress = await progressOf(context)
          if (progress.frozenAt && progress.freezeMs === undefined) {
            const freezeMs = Date.now() - new Date(progress.frozenAt).getTime()
            await record(context, { freezeMs })
            await deps.catalog.updateTable('tenant_moves').set({ freeze_ms: freezeMs }).where('operation_id', '=', context.operation.id).execute()
          }
        },
      },
      {
        name: 'keepSource',
        async run(context) {
          const { tenant, source, target } = await load(context)
          await deps.hosts.withAdminClient(source, async (client) => {
            await dropSlot(client, context.params.slot)
            await keepSourceDatabase(client, tenant.database_name, context.params.keptDatabase)
          })
          if (context.params.rollbackOf) {
            // The tenant is back where the earlier move took it from: that move's kept copy is stale now.
            const earlier = await deps.catalog.selectFrom('tenant_moves').selectAll().where('id', '=', context.params.rollbackOf).executeTakeFirst()
            if (earlier && earlier.state === 'kept') {
              await deps.hosts.withAdminClient(earlier.source_host_id, (client) => dropDatabase(client, earlier.kept_database))
              await deps.catalog.updateTable('tenant_moves').set({ state: 'rolled_back', rolled_back_at: new Date(), dropped_at: new Date() }).where('id', '=', earlier.id).execute()
            }
          }
          const progress = await progressOf(context)
          await deps.audit.record({
            actorType: 'system',
            tenantId: tenant.id,
            action: context.params.rollbackOf ? 'tenant.move_rolled_back' : 'tenant.moved',
            target: tenant.slug,
            details: { operationId: context.operation.id, from: source.name, to: target.name, method: progress.method, freezeMs: progress.freezeMs, keptDatabase: context.params.keptDatabase },
          })
        },
      },
    ],
    async onFailure(context, error) {
      const { switched } = await load(context)
      if (switched) {
        // Past the switch the target holds the tenant: end the freeze, a retry finishes the rest.
        await unfreezeAfterMove(deps, context.operation.tenant_id!)
        return
      }
      await revert(context, `${context.operation.step}: ${error.message}`.slice(0, 300))
    },
    async rollback(context) {
      const { switched } = await load(context)
      if (switched) {
        await unfreezeAfterMove(deps, context.operation.tenant_id!)
        throw new Error('this move already switched the tenant to its target; return it with `tenantctl move <tenant> --rollback`')
      }
      await revert(context, 'rolled back')
    },
  }
}


/** Disables the enabled user triggers of every table (as their owner); returns which, to enable them again. */
async function disableUserTriggers(client: pg.ClientBase): Promise<Array<{ table: string; trigger: string }>> {
  const { rows } = await client.query<{ table: string; trigger: string }>(
    `select format('%I.%I', n.nspname, c.relname) as table, t.tgname as trigger
       from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and t.tgenabled <> 'D' and n.nspname not in ('pg_catalog', 'information_schema')`
  )
  for (const row of rows) await client.query(`alter table ${row.table} disable trigger ${escapeIdentifier(row.trigger)}`)
  return rows
}
