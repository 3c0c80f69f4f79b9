import type pg from 'pg'
import { escapeIdentifier } from 'pg'

/** Rows per table, keyed "schema.table", and the migrations a tenant database has applied. */
export interface DatabaseInventory {
  rowCounts: Record<string, number>
  migrations: Array<{ scope: string; name: string }>
  serverVersion: string
}

/**
 * Counts the rows of every user table and reads `tenant_migrations`, on a client whose
 * transaction already holds the snapshot to describe (REPEATABLE READ, so every count sees
 * the same instant; for a backup, the instant pg_dump dumps via --snapshot).
 *
 * @example
 *   await client.query('begin isolation level repeatable read read only')
 *   const snapshot = (await client.query('select pg_export_snapshot() as id')).rows[0].id
 *   const inventory = await readInventory(client)
 */
export async function readInventory(client: pg.ClientBase): Promise<DatabaseInventory> {
  const tables = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
      order by 1, 2`
  )
  const rowCounts: Record<string, number> = {}
  for (const { schema, name } of tables.rows) {
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${escapeIdentifier(schema)}.${escapeIdentifier(name)}`)
    rowCounts[`${schema}.${name}`] = Number(rows[0]!.n)
  }
  const hasMigrations = await client.query<{ t: string | null }>(`select to_regclass('public.tenant_migrations')::text as t`)
  const migrations = hasMigrations.rows[0]!.t
    ? (await client.query<{ scope: string; name: string }>('select scope, name from tenant_migrations order by scope, name')).rows
    : []
  const version = await client.query<{ v: string }>("select current_setting('server_version') as v")
  return { rowCounts, migrations, serverVersion: version.rows[0]!.v }
}

/** Tables whose counts differ, e.g. ["public.users: 12 recorded, 11 restored"]; [] when equal. */
export function compareRowCounts(recorded: Record<string, number>, actual: Record<string, number>): string[] {
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(actual)])].sort()
  return names
    .filter((name) => recorded[name] !== actual[name])
    .map((name) => `${name}: ${recorded[name] ?? 'absent'} recorded, ${actual[name] ?? 'absent'} restored`)
}
