import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { CopyOutStream } from '../tenant-export/copy-out-stream.js'
import { CopyInStream } from './copy-in-stream.js'

/** A schema tenantd keeps in a target database during a move (applied-change bookkeeping); never copied or compared. */
export const moveSchema = 'tenantd_move'

/**
 * CopyOutStream keeping its own copy of each chunk: node-postgres hands out slices of its
 * receive buffer, which it reuses for later messages; a chunk held in the stream's buffer
 * while the target is slower would be overwritten (seen as a corrupt binary COPY).
 */
class OwnedCopyOutStream extends CopyOutStream {
  override handleCopyData(message: { chunk: Buffer }): void {
    super.handleCopyData({ chunk: Buffer.from(message.chunk) })
  }
}

/** A table of a tenant database: its qualified name and the columns of its replica identity. */
export interface TenantTable {
  schema: string
  name: string
  /** Columns of the primary key (or replica identity index); empty when it has neither. */
  key: string[]
  /** Size of its main data file, when listed with sizes: to share work between sessions. */
  bytes?: number
}

/** Data a session is worth opening for: below it, opening one more (about 9 ms with SCRAM) costs more than it saves. */
const bytesPerSession = 32 * 1024 * 1024

/** How many sessions to spread work on these tables over: one per 32 MiB of table data, 1 to `max`. */
export function sessionsFor(tables: TenantTable[], max: number): number {
  const bytes = tables.reduce((sum, t) => sum + (t.bytes ?? bytesPerSession), 0)
  return Math.max(1, Math.min(max, Math.ceil(bytes / bytesPerSession)))
}

export function qualified(table: { schema: string; name: string }): string {
  return `${escapeIdentifier(table.schema)}.${escapeIdentifier(table.name)}`
}

/** `schema.name` as a map key. */
export function tableKey(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`
}

/**
 * The ordinary and partitioned-leaf tables of the database the client is connected to, outside
 * the system schemas and tenantd's own bookkeeping schema, with their key columns. With
 * `sizes`, each table's size too (pg_relation_size: it waits for a table another session holds
 * exclusively, so only where the tables are read anyway).
 */
export async function listTables(client: pg.ClientBase, options: { sizes?: boolean } = {}): Promise<TenantTable[]> {
  const { rows } = await client.query<{ schema: string; name: string; key: string[] | null; bytes: string | null }>(
    `select n.nspname as schema, c.relname as name, case when $2 then pg_relation_size(c.oid)::text end as bytes,
            (select array_agg(a.attname::text order by k.ord)
               from pg_index i
               cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where i.indrelid = c.oid
                and (case when c.relreplident = 'i' then i.indisreplident else i.indisprimary end)) as key
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r'
        and n.nspname not in ('pg_catalog', 'information_schema', $1)
        and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
      order by case when $2 then pg_relation_size(c.oid) else c.relpages end desc, n.nspname, c.relname`,
    [moveSchema, options.sizes === true]
  )
  return rows.map((row) => ({ schema: row.schema, name: row.name, key: row.key ?? [], ...(row.bytes === null ? {} : { bytes: Number(row.bytes) }) }))
}

/**
 * Streams one table from the source session (inside its snapshot, if it set one) into the same
 * table on the target, in PostgreSQL's binary COPY format: no row is ever a JavaScript value and
 * no table is held in memory. Returns the bytes moved.
 */
export async function copyTable(source: pg.ClientBase, target: pg.ClientBase, table: TenantTable): Promise<number> {
  const columns = await nonGeneratedColumns(source, table)
  const list = columns.map(escapeIdentifier).join(', ')
  let bytes = 0
  const out = source.query(new OwnedCopyOutStream(`copy (select ${list} from only ${qualified(table)}) to stdout with (format binary)`))
  const into = new CopyInStream(`copy ${qualified(table)} (${list}) from stdin with (format binary)`)
  target.query(into as never)
  // Counted on the way through (a 'data' listener would start the flow before the pipe exists).
  const count = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      bytes += chunk.length
      yield chunk
    }
  }
  await pipeline(out, count, into)
  return bytes
}

async function nonGeneratedColumns(client: pg.ClientBase, table: TenantTable): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    `select attname from pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''
      order by attnum`,
    [qualified(table)]
  )
  return rows.map((r) => r.attname)
}

/** Per-table row count and an order-independent checksum of the rows' text, for comparing two copies. */
export type TableDigests = Record<string, { rows: number; checksum: string }>

/** Session settings both sides read rows with, so a row's text form is the same on each. */
const digestSettings = `set timezone = 'UTC'; set datestyle = 'ISO, YMD'; set extra_float_digits = 3; set intervalstyle = 'postgres'`
/** Row count and checksum (sum of a 64-bit hash of each row's text form) of the rows `t` a query selects. */
const digestOf = (from: string) => `select count(*)::text as n, 't' || coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text as sum from ${from}`
/**
 * The same from the row's values (each column's own hash function, no text form): about three
 * times faster, for tables whose every column type has an extended hash function (json, point
 * and a few others have none). Summed in PostgreSQL's 128-bit accumulator.
 */
const recordDigestOf = (from: string) => `select count(*)::text as n, 'r' || coalesce(sum(hash_record_extended(t, 0)), 0)::text as sum from ${from}`
/** SQLSTATE of "could not identify an extended hash function for type …". */
const undefinedFunction = '42883'

/**
 * One table's digest by its values, or by its text form when a column type cannot be hashed.
 * The choice depends on the column types alone (the same on both sides of a move), and the
 * checksum says which was used, so two sides never compare different digests as equal.
 */
async function tableDigest(client: pg.ClientBase, from: string): Promise<{ n: string; sum: string }> {
  await client.query('savepoint tenantd_digest')
  try {
    const { rows } = await client.query<{ n: string; sum: string }>(recordDigestOf(from))
    await client.query('release savepoint tenantd_digest')
    return rows[0]!
  } catch (error) {
    if ((error as { code?: string }).code !== undefinedFunction) throw error
    await client.query('rollback to savepoint tenantd_digest')
    await client.query('release savepoint tenantd_digest')
    return (await client.query<{ n: string; sum: string }>(digestOf(from))).rows[0]!
  }
}

/**
 * Row count and checksum of every table, in one read-only snapshot (`snapshot`, exported by
 * another session, or a fresh one). Both sides must read with the same session settings (time
 * zone, date style, float digits), which this sets.
 */
export async function tableDigests(client: pg.ClientBase, tables: TenantTable[], snapshot?: string): Promise<TableDigests> {
  await client.query(digestSettings)
  await client.query('begin isolation level repeatable read read only')
  try {
    if (snapshot) await client.query(`set transaction snapshot ${escapeLiteral(snapshot)}`)
    const digests: TableDigests = {}
    for (const table of tables) {
      const digest = await tableDigest(client, `only ${qualified(table)} t`)
      digests[tableKey(table)] = { rows: Number(digest.n), checksum: digest.sum }
    }
    await client.query('commit')
    return digests
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

/**
 * Row count and checksum of the rows of `table` whose keys are given (key column → value as
 * text, as logical decoding prints it): found by key through the table's index, so the cost
 * follows the number of keys, not the size of the table. Keys of rows that no longer exist
 * count nothing, on both sides alike.
 */
export async function keyedRowsDigest(client: pg.ClientBase, table: TenantTable, keys: Array<Record<string, string | null>>): Promise<{ rows: number; checksum: string }> {
  const { rows: types } = await client.query<{ attname: string; type: string }>(
    `select attname, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1::regclass and attname = any($2::text[])`,
    [qualified(table), table.key]
  )
  const typeOf = new Map(types.map((r) => [r.attname, r.type]))
  const columns = table.key.map((c) => `t.${escapeIdentifier(c)}`).join(', ')
  const values = table.key.map((c) => `(k->>${escapeLiteral(c)})::${typeOf.get(c) ?? 'text'}`).join(', ')
  await client.query(digestSettings)
  const { rows } = await client.query<{ n: string; sum: string }>(
    digestOf(`only ${qualified(table)} t where (${columns}) in (select ${values} from jsonb_array_elements($1::jsonb) k)`),
    [JSON.stringify(keys)]
  )
  return { rows: Number(rows[0]!.n), checksum: rows[0]!.sum }
}

/** The tables whose count or checksum differ, described for an error message. */
export function digestDifferences(source: TableDigests, target: TableDigests): string[] {
  const names = new Set([...Object.keys(source), ...Object.keys(target)])
  const differences: string[] = []
  for (const name of [...names].sort()) {
    const a = source[name]
    const b = target[name]
    if (!a || !b) differences.push(`${name}: ${a ? 'missing on the target' : 'only on the target'}`)
    else if (a.rows !== b.rows) differences.push(`${name}: ${a.rows} rows on the source, ${b.rows} on the target`)
    else if (a.checksum !== b.checksum) differences.push(`${name}: same ${a.rows} rows but different contents`)
  }
  return differences
}

/** Sets every sequence on the target to the source's position (sequences are not decoded). */
export async function copySequences(source: pg.ClientBase, target: pg.ClientBase): Promise<number> {
  const { rows } = await source.query<{ schemaname: string; sequencename: string; last_value: string | null }>(
    `select schemaname, sequencename, last_value::text from pg_sequences where schemaname not in ('pg_catalog', 'information_schema', $1)`,
    [moveSchema]
  )
  for (const row of rows) {
    const name = `${escapeIdentifier(row.schemaname)}.${escapeIdentifier(row.sequencename)}`
    // last_value null: never used; setval(..., is_called false) leaves it unused on the target too.
    if (row.last_value === null) {
      await target.query(`select setval(${escapeLiteral(name)}::regclass, (select min_value from pg_sequences where schemaname = $1 and sequencename = $2), false)`, [row.schemaname, row.sequencename])
    } else {
      await target.query(`select setval(${escapeLiteral(name)}::regclass, $1::bigint, true)`, [row.last_value])
    }
  }
  return rows.length
}
