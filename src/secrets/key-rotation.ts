import { sql } from 'kysely'
import type { AuditLog } from '../audit/audit-log.js'
import { readBackupHeader } from '../backups/backup-cipher.js'
import type { BackupTargets } from '../backups/backup-targets.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Logger } from '../logger.js'
import type { OperationHandler, OperationRunner } from '../operations/operation-runner.js'
import { countUnrecordedBackupKeys, emptyCounts, keyStatus, sealedColumns, type KeyStatus, type SecretCounts } from './key-status.js'
import { SealedSecretError, type SecretSealer } from './secret-sealer.js'

export interface KeyRotationDeps {
  catalog: CatalogDb
  sealer: SecretSealer
  targets: BackupTargets
  audit: AuditLog
  operations: OperationRunner
  log: Logger
}

export interface RotateKeysParams {
  /** Secrets re-sealed per transaction. */
  batchSize: number
}

/** What a rotation did: secrets re-sealed per kind, and old backups whose file could not be read. */
export interface RotationResult extends SecretCounts {
  /** Backups from before control-migrations/0011 whose file header was unreadable (missing or damaged file). */
  unreadableBackups: number
}

export const defaultBatchSize = 100

/**
 * Re-seals every secret of the catalog that is not sealed by the active key id, in batches
 * of `batchSize` rows, each batch one transaction (rows locked FOR UPDATE, written only if
 * unchanged meanwhile). Safe to stop at any point and run again: what is re-sealed stays
 * re-sealed, and a second run finds only what is left. First records the data key of
 * backups taken before control-migrations/0011 from their file headers.
 *
 * @example
 *   const result = await resealSecrets(deps, { batchSize: 100 }, async (done, total) => progress(done / total))
 */
export async function resealSecrets(
  deps: Pick<KeyRotationDeps, 'catalog' | 'sealer' | 'targets' | 'log'>,
  params: RotateKeysParams,
  onBatch: (result: RotationResult, remaining: number) => Promise<void>,
  start: RotationResult = { ...emptyCounts(), unreadableBackups: 0 }
): Promise<RotationResult> {
  const { catalog, sealer } = deps
  const active = sealer.activeKeyId
  const result = { ...start }
  const columns = await sealedColumns(catalog)
  let remaining = await countStale(catalog, columns, active)
  remaining += await countUnrecordedBackupKeys(catalog)

  // Backups whose data key only the header holds: read the header (not the file) and record the key.
  let cursor: string | undefined
  for (;;) {
    let query = catalog
      .selectFrom('backups')
      .select(['id', 'tenant_id', 'storage_target', 'storage_key'])
      .where('data_key_sealed', 'is', null)
      .where('state', 'in', ['completed', 'verified'])
      .orderBy('id')
      .limit(params.batchSize)
    if (cursor) query = query.where('id', '>', cursor)
    const rows = await query.execute()
    if (rows.length === 0) break
    for (const row of rows) {
      let sealedKey: string
      try {
        const header = await readBackupHeader(await deps.targets.forTarget(row.storage_target).read(row.storage_key))
        if (header.tenantId !== row.tenant_id || header.backupId !== row.id) throw new Error('the file is another backup')
        sealedKey = String(header.sealedKey)
      } catch (error) {
        deps.log.warn({ backupId: row.id, reason: (error as Error).message }, 'backup header unreadable; its data key is not recorded')
        result.unreadableBackups++
        continue
      }
      const resealed = resealOrExplain(sealer, sealedKey, `backup ${row.id}`)
      await catalog.updateTable('backups').set({ data_key_sealed: resealed }).where('id', '=', row.id).where('data_key_sealed', 'is', null).execute()
      result.backupKeys++
    }
    cursor = rows.at(-1)!.id
    remaining -= rows.length
    await onBatch(result, Math.max(0, remaining))
  }

  for (const { table, column, kind } of columns) {
    let after: string | null = null
    for (;;) {
      const resealed: number = await catalog.transaction().execute(async (trx) => {
        const { rows } = await sql<{ id: string; sealed: string }>`
          select id::text as id, ${sql.ref(column)} as sealed from ${sql.table(table)}
           where ${sql.ref(column)} like 'v1:%' and split_part(${sql.ref(column)}, ':', 2) <> ${active}
             and (${after}::text is null or id::text > ${after}::text)
           order by id::text limit ${params.batchSize} for update`.execute(trx)
        for (const row of rows) {
          const value = resealOrExplain(sealer, row.sealed, `${table}.${column} of ${row.id}`)
          await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${value}
                     where id::text = ${row.id} and ${sql.ref(column)} = ${row.sealed}`.execute(trx)
        }
        if (rows.length) after = rows.at(-1)!.id
        return rows.length
      })
      if (resealed === 0) break
      result[kind] += resealed
      remaining -= resealed
      await onBatch(result, Math.max(0, remaining))
    }
  }
  return result
}

async function countStale(catalog: CatalogDb, columns: Array<{ table: string; column: string }>, active: string): Promise<number> {
  let total = 0
  for (const { table, column } of columns) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(table)}
       where ${sql.ref(column)} like 'v1:%' and split_part(${sql.ref(column)}, ':', 2) <> ${active}`.execute(catalog)
    total += rows[0]!.n
  }
  return total
}

/** Re-seals, turning "not in the keyring" into a message that says what to do (never the value). */
function resealOrExplain(sealer: SecretSealer, sealed: string, what: string): string {
  try {
    return sealer.reseal(sealed)
  } catch (error) {
    if (error instanceof SealedSecretError) {
      throw new Error(`cannot re-seal ${what}: ${error.message}; add that key id back to TENANTD_MASTER_KEY (after the active key) and run the rotation again`)
    }
    throw error
  }
}

/**
 * The `rotateKeys` operation: one step, resealSecrets, resumable from where it stopped (the
 * counts so far are kept in the operation's result). Audits `keys.rotated` with the counts.
 *
 * @example
 *   operations.register(rotateKeysHandler(deps))
 */
export function rotateKeysHandler(deps: Omit<KeyRotationDeps, 'operations'>): OperationHandler<RotateKeysParams> {
  return {
    kind: 'rotateKeys',
    steps: [
      {
        name: 'resealSecrets',
        async run(context) {
          const previous = (await deps.catalog.selectFrom('operations').select('result').where('id', '=', context.operation.id).executeTakeFirst())?.result
          const start = { ...emptyCounts(), unreadableBackups: 0, ...(previous as Partial<RotationResult> | null) }
          const done = (r: RotationResult) => r.tenantPasswords + r.hostPasswords + r.backupKeys + r.otherSecrets + r.unreadableBackups
          const result = await resealSecrets(deps, context.params, async (progress, remaining) => {
            await deps.catalog.updateTable('operations').set({ result: JSON.stringify(progress) }).where('id', '=', context.operation.id).execute()
            const finished = done(progress)
            await context.progress((100 * finished) / Math.max(1, finished + remaining))
          }, start)
          await deps.catalog.updateTable('operations').set({ result: JSON.stringify(result) }).where('id', '=', context.operation.id).execute()
          await deps.audit.record({
            actorType: context.operation.created_by ? 'operator' : 'system',
            actorId: context.operation.created_by,
            action: 'keys.rotated',
            target: deps.sealer.activeKeyId,
            details: { activeKeyId: deps.sealer.activeKeyId, operationId: context.operation.id, ...result },
          })
          context.log.info({ activeKeyId: deps.sealer.activeKeyId, ...result }, 'secrets re-sealed under the active key')
        },
      },
    ],
  }
}

/** Key status and rotation, for the routes (the CLI goes through them). */
export class KeyService {
  constructor(private readonly deps: KeyRotationDeps) {}

  status(): Promise<KeyStatus> {
    return keyStatus(this.deps.catalog, this.deps.sealer)
  }

  /**
   * Starts a rotation, or returns the one already under way (two at once would only do the
   * same work twice).
   */
  async requestRotation(createdBy: string | null | undefined, batchSize = defaultBatchSize): Promise<{ operationId: string; started: boolean }> {
    const open = await this.deps.catalog
      .selectFrom('operations')
      .select('id')
      .where('kind', '=', 'rotateKeys')
      .where('status', 'in', ['pending', 'running'])
      .orderBy('created_at')
      .executeTakeFirst()
    if (open) return { operationId: open.id, started: false }
    const operation = await this.deps.operations.enqueue('rotateKeys', null, { batchSize }, createdBy ?? null)
    return { operationId: operation.id, started: true }
  }

  /** The counts of a rotation operation so far (its `result`). */
  async result(operationId: string): Promise<RotationResult> {
    const row = await this.deps.operations.get(operationId)
    return { ...emptyCounts(), unreadableBackups: 0, ...(row.result as Partial<RotationResult> | null) }
  }
}
