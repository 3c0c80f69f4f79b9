import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { moveSchema, qualified, tableKey, type TenantTable } from './table-copy.js'
import { parseChange, type DecodedChange } from './test-decoding-parser.js'

/** How the changes made while a tenant's data is copied reach the target. */
export type CaptureMethod = 'logical' | 'frozen-copy'

/**
 * Which capture a source host allows, and why: logical decoding needs `wal_level = logical`,
 * a free replication slot, an admin role with REPLICATION (or superuser), and a primary key
 * (or replica identity index) on every table; otherwise everything is copied under the freeze.
 * `client` is an admin session in the tenant's database.
 */
export async function chooseCaptureMethod(client: pg.ClientBase, tables: TenantTable[]): Promise<{ method: CaptureMethod; reason: string }> {
  const { rows } = await client.query<{ wal_level: string; replication: boolean; free_slots: number }>(
    `select current_setting('wal_level') as wal_level,
            (select rolreplication or rolsuper from pg_roles where rolname = current_user) as replication,
            current_setting('max_replication_slots')::int - (select count(*)::int from pg_replication_slots) as free_slots`
  )
  const host = rows[0]!
  const missing: string[] = []
  if (host.wal_level !== 'logical') missing.push(`wal_level is ${host.wal_level}, not logical`)
  if (!host.replication) missing.push('the host admin role lacks REPLICATION')
  if (host.free_slots < 1) missing.push('no replication slot is free (max_replication_slots)')
  const keyless = tables.filter((t) => t.key.length === 0).map(tableKey)
  if (keyless.length) missing.push(`tables without a primary key: ${keyless.slice(0, 5).join(', ')}`)
  if (missing.length) return { method: 'frozen-copy', reason: `logical decoding is not possible on the source host (${missing.join('; ')}); everything is copied while writes are frozen` }
  return { method: 'logical', reason: 'the source host allows logical decoding (wal_level=logical, admin role with REPLICATION): the copy runs while the tenant stays writable and only the changes made meanwhile are moved under the freeze' }
}

/** A logical replication slot created with an exported snapshot; the snapshot lives as long as `close()` is not called. */
export interface SnapshotSlot {
  snapshot: string
  close(): Promise<void>
}

/**
 * Creates the slot over a replication connection (`replication=database`), exporting the
 * snapshot of exactly the point the slot starts decoding from: a copy made in that snapshot
 * plus every change the slot decodes is the whole database, each change exactly once.
 */
export async function createSlotWithSnapshot(config: pg.ClientConfig, slot: string): Promise<SnapshotSlot> {
  const client = new pg.Client({ ...config, replication: 'database' } as pg.ClientConfig)
  client.on('error', () => {})
  await client.connect()
  try {
    const { rows } = await client.query<{ snapshot_name: string }>(`CREATE_REPLICATION_SLOT ${escapeIdentifier(slot)} LOGICAL test_decoding (SNAPSHOT 'export')`)
    return { snapshot: rows[0]!.snapshot_name, close: () => client.end().catch(() => {}) }
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
}

/** Drops the slot if it exists; a slot still held by a dead session's connection is waited for briefly. */
export async function dropSlot(client: pg.ClientBase, slot: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{ active_pid: number | null }>('select active_pid from pg_replication_slots where slot_name = $1', [slot])
    if (!rows[0]) return
    if (rows[0].active_pid !== null) await client.query('select pg_terminate_backend($1)', [rows[0].active_pid]).catch(() => {})
    try {
      await client.query('select pg_drop_replication_slot($1)', [slot])
      return
    } catch (error) {
      if (attempt >= 50) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** One source transaction's changes, in commit order. */
export interface DecodedTransaction {
  /** LSN of its commit: what the target records as applied. */
  lsn: string
  changes: DecodedChange[]
}

/**
 * Reads (without consuming) up to about `limit` changes decoded since the slot's confirmed
 * position, whole transactions only. `client` is an admin session (REPLICATION) in the source
 * database. Memory is bounded by `limit`.
 */
export async function peekTransactions(client: pg.ClientBase, slot: string, limit: number): Promise<DecodedTransaction[]> {
  const { rows } = await client.query<{ lsn: string; data: string }>(
    `select lsn::text, data from pg_logical_slot_peek_changes($1, null, $2, 'include-xids', '0', 'skip-empty-xacts', '1')`,
    [slot, limit]
  )
  const transactions: DecodedTransaction[] = []
  let current: DecodedChange[] | undefined
  for (const row of rows) {
    if (row.data === 'BEGIN') current = []
    else if (row.data === 'COMMIT') {
      if (current) transactions.push({ lsn: row.lsn, changes: current })
      current = undefined
    } else if (current && row.data.startsWith('table ')) {
      const change = parseChange(row.data)
      if (change.schema !== moveSchema) current.push(change)
    }
  }
  return transactions
}

/**
 * Makes every transaction committed so far visible to decoding, which reads only flushed WAL:
 * a transaction that wrote WAL, committed with synchronous_commit on, flushes the WAL up to its
 * own commit, so it covers commits made with synchronous_commit off (a tenant may set that),
 * whose WAL may otherwise wait for the WAL writer. Without it a final drain could miss the last
 * writes. The WAL written is a transactional logical message (REPLICATION suffices; an xid
 * alone writes nothing, and its commit would not flush); decoding shows it as an empty
 * transaction.
 */
export async function flushWal(client: pg.ClientBase): Promise<void> {
  await client.query('begin')
  try {
    await client.query('set local synchronous_commit = on')
    await client.query(`select pg_logical_emit_message(true, 'tenantd_move', 'flush')`)
    await client.query('commit')
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

/** Moves the slot past what the target has applied, so the next peek starts after it (and the source can recycle WAL). */
export async function advanceSlot(client: pg.ClientBase, slot: string, lsn: string): Promise<void> {
  await client.query('select pg_replication_slot_advance($1, $2::pg_lsn)', [slot, lsn])
}

/**
 * Creates the target's bookkeeping (as the tenant's role, in its database, dropped at the
 * switch): the commit LSN applied last, and a check that an update or delete hit one row.
 */
export async function ensureAppliedMarker(target: pg.ClientBase): Promise<void> {
  const schema = escapeIdentifier(moveSchema)
  await target.query(`create schema if not exists ${schema}`)
  await target.query(`create table if not exists ${schema}.applied (one boolean primary key default true check (one), lsn pg_lsn not null)`)
  await target.query(`insert into ${schema}.applied (lsn) values ('0/0') on conflict do nothing`)
  // The rows the applied changes touched, by key ('"*"' for a whole table: a truncate): what the
  // cutover compares between the two sides (the rest was compared in the copy's snapshot).
  await target.query(`create table if not exists ${schema}.touched (tbl text not null, key jsonb not null, primary key (tbl, key))`)
  await target.query(`create or replace function ${schema}.expect_one(n bigint, what text) returns void language plpgsql as $$
    begin
      if n <> 1 then
        raise exception 'the target diverged from the source: % matched % rows instead of 1', what, n using errcode = 'P0001';
      end if;
    end $$`)
}

export async function appliedLsn(target: pg.ClientBase): Promise<string> {
  const { rows } = await target.query<{ lsn: string }>(`select lsn::text from ${escapeIdentifier(moveSchema)}.applied`)
  return rows[0]?.lsn ?? '0/0'
}

/** Changes sent to the target per round trip (whole source transactions, one target transaction). */
const changesPerRoundTrip = 500

/**
 * Applies decoded transactions on the target in commit order. Whole source transactions are
 * grouped into target transactions of about 500 changes, each sent as one multi-statement
 * query (one round trip) together with the record of its last commit LSN, so a crash anywhere
 * never applies a change twice nor skips one: transactions at or below the recorded LSN are
 * skipped. Every update and delete must hit exactly one row (checked inside the transaction);
 * anything else means the copies diverged, and the move stops.
 * Returns the number of row changes applied and the last LSN applied.
 */
export async function applyTransactions(target: pg.ClientBase, transactions: DecodedTransaction[], tables: Map<string, TenantTable>): Promise<{ changes: number; lsn: string | undefined }> {
  const applied = await appliedLsn(target)
  const pending = transactions.filter((tx) => compareLsn(tx.lsn, applied) > 0)
  let changes = 0
  let last: string | undefined
  for (let i = 0; i < pending.length; ) {
    const statements: string[] = []
    const touched = new Set<string>()
    let lsn = pending[i]!.lsn
    while (i < pending.length && (statements.length === 0 || statements.length + pending[i]!.changes.length <= changesPerRoundTrip)) {
      for (const change of pending[i]!.changes) {
        statements.push(changeSql(change, tables))
        for (const key of touchedKeys(change, tables)) touched.add(key)
      }
      lsn = pending[i]!.lsn
      i++
    }
    const marker = `update ${escapeIdentifier(moveSchema)}.applied set lsn = ${escapeLiteral(lsn)}::pg_lsn`
    const record = touched.size ? [`insert into ${escapeIdentifier(moveSchema)}.touched (tbl, key) values ${[...touched].join(', ')} on conflict do nothing`] : []
    try {
      await target.query(['begin', ...statements, ...record, marker, 'commit'].join(';\n'))
    } catch (error) {
      await target.query('rollback').catch(() => {})
      throw error
    }
    changes += statements.length
    last = lsn
  }
  return { changes, lsn: last ?? (transactions.length ? applied : undefined) }
}

/** The `(tbl, key)` rows (as SQL values) a change touches: its key before and after, or the whole table for a truncate. */
function touchedKeys(change: DecodedChange, tables: Map<string, TenantTable>): string[] {
  const tbl = escapeLiteral(tableKey(change))
  if (change.kind === 'truncate') return [`(${tbl}, '"*"')`]
  const table = tables.get(tableKey(change))
  if (!table) return []
  const keyOf = (values: Record<string, string | null>) => `(${tbl}, ${escapeLiteral(JSON.stringify(Object.fromEntries(table.key.map((c) => [c, values[c] ?? null]))))}::jsonb)`
  const keys: string[] = []
  if (change.oldKey) keys.push(keyOf(change.oldKey))
  if (change.columns) keys.push(keyOf(change.columns))
  return keys
}

/** One change as SQL with its values as literals (text, coerced to the column types by PostgreSQL). */
function changeSql(change: DecodedChange, tables: Map<string, TenantTable>): string {
  const name = qualified(change)
  if (change.kind === 'truncate') return `truncate ${name}`
  const table = tables.get(tableKey(change))
  if (!table) throw new Error(`a change arrived for ${tableKey(change)}, which did not exist when the move began (schema changes during a move are not supported)`)
  const literal = (value: string | null) => (value === null ? 'null' : escapeLiteral(value))
  if (change.kind === 'insert') {
    const columns = Object.keys(change.columns!)
    return `insert into ${name} (${columns.map(escapeIdentifier).join(', ')}) values (${columns.map((c) => literal(change.columns![c]!)).join(', ')})`
  }
  const keyValues = change.oldKey ?? change.columns!
  const where = table.key
    .map((column) => {
      if (!(column in keyValues)) throw new Error(`a change of ${tableKey(change)} lacks its key column ${column}`)
      const value = keyValues[column]!
      return value === null ? `${escapeIdentifier(column)} is null` : `${escapeIdentifier(column)} = ${literal(value)}`
    })
    .join(' and ')
  const what = escapeLiteral(`a ${change.kind} of ${tableKey(change)}`)
  const check = (dml: string) => `with c as (${dml} returning 1) select ${escapeIdentifier(moveSchema)}.expect_one((select count(*) from c), ${what})`
  if (change.kind === 'delete') return check(`delete from ${name} where ${where}`)
  const sets = Object.keys(change.columns!).map((c) => `${escapeIdentifier(c)} = ${literal(change.columns![c]!)}`)
  return check(`update ${name} set ${sets.join(', ')} where ${where}`)
}

/** Orders two LSNs (`16/B374D848`). */
export function compareLsn(a: string, b: string): number {
  const parse = (lsn: string) => {
    const [hi, lo] = lsn.split('/')
    return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)
  }
  const x = parse(a)
  const y = parse(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** How many changes wait in the slot (for choosing when to freeze). */
export async function pendingBytes(client: pg.ClientBase, slot: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string | null }>(
    'select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text as bytes from pg_replication_slots where slot_name = $1',
    [slot]
  )
  return Number(rows[0]?.bytes ?? 0)
}

