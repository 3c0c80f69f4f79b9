import type pg from 'pg'
import { escapeIdentifier } from 'pg'
import { newNameTag, stampedDatabaseName } from '../hosts/database-names.js'
import { withSessionsEnded } from '../hosts/database-sessions.js'

/** Whether a database of that name exists on the client's server. */
export async function databaseExists(client: pg.ClientBase, database: string): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database])
  return (rowCount ?? 0) > 0
}
const exists = databaseExists

/**
 * Where a swap of `names` stands: `before` (the restored database still waits under its own
 * name), `after` (it carries the current name, the old one is kept as `previous`), or
 * `neither` (the restored database is gone, nothing was swapped: dropped by a cleanup).
 */
export async function swapState(client: pg.ClientBase, names: { restored: string; previous: string }): Promise<'before' | 'after' | 'neither'> {
  if (await exists(client, names.restored)) return 'before'
  return (await exists(client, names.previous)) ? 'after' : 'neither'
}

/** Lets connections into a database again (a swap that stopped half-way closed it). */
export async function openDatabase(client: pg.ClientBase, database: string): Promise<void> {
  if (await exists(client, database)) await client.query(`ALTER DATABASE ${escapeIdentifier(database)} WITH ALLOW_CONNECTIONS true`)
}

/**
 * Swaps a restored database in under the tenant's database name, keeping the current one
 * as `previous`: connections to the current database are refused (ALLOW_CONNECTIONS false),
 * its sessions terminated, then both renames happen in one transaction, so the tenant's
 * name always points at a whole database: the old one or the restored one, never neither.
 * The kept database stays closed to connections until an undo swaps it back in (the
 * database that takes the current name is opened, whatever it was before).
 * Idempotent: a swap that already happened (restored name gone, previous present) is done.
 *
 * @example
 *   await hosts.withAdminClient(hostId, (c) => swapDatabases(c, { current: 'acme', restored: 'acme_r_1', previous: 'acme_pre_restore_1' }))
 */
export async function swapDatabases(client: pg.ClientBase, names: { current: string; restored: string; previous: string }): Promise<void> {
  const current = escapeIdentifier(names.current)
  const state = await swapState(client, names)
  if (state === 'after') return openDatabase(client, names.current)
  if (state === 'neither') throw new Error(`the database ${names.restored} to swap in is missing; run the restore again`)
  await client.query(`ALTER DATABASE ${current} WITH ALLOW_CONNECTIONS false`)
  try {
    // Sessions of the tenant's role (its app, tenantd's pools) are ended: they reconnect to
    // the restored database a moment later.
    await withSessionsEnded(client, names.current, async () => {
      try {
        await client.query('begin')
        await client.query(`ALTER DATABASE ${current} RENAME TO ${escapeIdentifier(names.previous)}`)
        await client.query(`ALTER DATABASE ${escapeIdentifier(names.restored)} RENAME TO ${current}`)
        await client.query('commit')
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      }
    })
  } catch (error) {
    await client.query(`ALTER DATABASE ${current} WITH ALLOW_CONNECTIONS true`).catch(() => {})
    throw error
  }
  // A kept database swapped back in by an undo was closed; a restored one is open anyway.
  await client.query(`ALTER DATABASE ${current} WITH ALLOW_CONNECTIONS true`)
}

/** The name an undo keeps the database it swaps out under (see stampedDatabaseName). */
export function undoneDatabaseName(database: string, at: Date): string {
  return stampedDatabaseName(database, 'undone', at)
}

/** Names for a restore of `database` at `at`: one tag for both, so they read as a pair. */
export function restoreDatabaseNames(database: string, at: Date): { restored: string; previous: string } {
  const tag = newNameTag()
  return { restored: stampedDatabaseName(database, 'restoring', at, tag), previous: stampedDatabaseName(database, 'pre_restore', at, tag) }
}
