import { createReadStream } from 'node:fs'
import type pg from 'pg'
import { escapeIdentifier } from 'pg'
import { ExportNewerThanCode, InvalidExport, sqlState } from '../errors.js'
import { bareTableName } from './export-format.js'
import { ExportScanner } from './export-scanner.js'
import type { ExportSummary } from './export-validator.js'
import { TEXT_FORM_SETTINGS } from './export-writer.js'
import { readTenantSchema, type SchemaTable } from './tenant-schema-reader.js'

/** Rows per INSERT, and at most this much JSON per INSERT. */
const BATCH_ROWS = 1000
const BATCH_BYTES = 4 * 1024 * 1024

interface Batch {
  table: string
  rows: Buffer[]
  bytes: number
}

/**
 * Loads a validated export (read again from its spool file) into a freshly provisioned tenant
 * database, as the tenant's role, in one transaction: what provisioning seeded in those tables
 * is truncated, rows go in table by table in the document's (dependency) order, BATCH_ROWS at
 * a time, each value cast from its text form to the column's type in this database;
 * sequences are set; every table's row count is compared with the trailer. Tables, columns
 * or sequences this database does not have are refused (409) before anything is written.
 *
 * @example
 *   const rows = await withTenantClient(tenant, sealer, (client) => loadExport(client, file, summary))
 */
export async function loadExport(client: pg.ClientBase, file: string, summary: ExportSummary): Promise<Record<string, number>> {
  const schema = await readTenantSchema(client)
  const inserts = new Map<string, string>()
  for (const table of summary.tables) {
    const target = schema.tables.find((t) => t.name === table.name)
    if (!target) {
      throw new ExportNewerThanCode(`the export holds table ${table.name}, which tenants of this tenantd do not have (made by newer code, or by hand); upgrade tenantd or import it where it came from`)
    }
    inserts.set(table.name, insertStatement(target, table.columns))
  }
  for (const sequence of summary.sequences) {
    if (!schema.sequences.includes(sequence.name)) {
      throw new ExportNewerThanCode(`the export holds sequence ${sequence.name}, which tenants of this tenantd do not have; upgrade tenantd`)
    }
  }

  await client.query('begin')
  try {
    for (const statement of TEXT_FORM_SETTINGS) await client.query(statement)
    if (summary.tables.length) {
      await client.query(`truncate table ${summary.tables.map((t) => relation(t.name)).join(', ')}`)
    }
    const queue: Batch[] = []
    let current: Batch | undefined
    let tableName: string | undefined
    const close = () => {
      if (current && current.rows.length) queue.push(current)
      current = undefined
    }
    const scanner = new ExportScanner(
      {
        tableMember(key, value) {
          if (key === 'name') tableName = value as string
        },
        row(json) {
          current ??= { table: tableName!, rows: [], bytes: 0 }
          current.rows.push(json!)
          current.bytes += json!.length + 1
          if (current.rows.length >= BATCH_ROWS || current.bytes >= BATCH_BYTES) close()
        },
        tableEnd: close,
      },
      { keepRows: true }
    )
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      scanner.write(chunk as Buffer)
      // Rows of this chunk go in before the next chunk is read: memory stays at one chunk and one batch.
      for (const batch of queue.splice(0)) await insertBatch(client, inserts.get(batch.table)!, batch)
    }
    scanner.end()
    close()
    for (const batch of queue.splice(0)) await insertBatch(client, inserts.get(batch.table)!, batch)

    for (const sequence of summary.sequences) {
      await client.query('select setval($1::regclass, $2::bigint, $3)', [relation(sequence.name), sequence.lastValue, sequence.isCalled])
    }
    const counts: Record<string, number> = {}
    for (const table of summary.tables) {
      const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${relation(table.name)}`)
      counts[table.name] = Number(rows[0]!.n)
      if (counts[table.name] !== table.rows) {
        throw new InvalidExport(`after loading, ${table.name} holds ${counts[table.name]} rows where the export has ${table.rows}; nothing was kept`)
      }
    }
    await client.query('commit')
    return counts
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

/** `insert ... select (r->>0)::<type>, ... from json_array_elements($1)`: text forms cast by this database's column types. */
function insertStatement(target: SchemaTable, columns: string[]): string {
  const types = new Map(target.columns.map((c) => [c.name, c.type]))
  const unknown = columns.filter((c) => !types.has(c))
  if (unknown.length) {
    throw new ExportNewerThanCode(`the export's ${target.name} has columns ${unknown.join(', ')}, which tenants of this tenantd do not have; upgrade tenantd`)
  }
  const list = columns.map((c) => escapeIdentifier(c)).join(', ')
  // Types come from this database's catalog (format_type), never from the document.
  const values = columns.map((c, i) => `(r->>${i})::${types.get(c)}`).join(', ')
  return columns.length
    ? `insert into ${relation(target.name)} (${list}) overriding system value select ${values} from json_array_elements($1::json) as e(r)`
    : `insert into ${relation(target.name)} default values`
}

async function insertBatch(client: pg.ClientBase, statement: string, batch: Batch): Promise<void> {
  if (statement.endsWith('default values')) {
    for (let i = 0; i < batch.rows.length; i++) await client.query(statement)
    return
  }
  const parts: Buffer[] = [Buffer.from('[')]
  batch.rows.forEach((row, i) => parts.push(i ? Buffer.from(',') : Buffer.alloc(0), row))
  parts.push(Buffer.from(']'))
  try {
    await client.query(statement, [Buffer.concat(parts).toString('utf8')])
  } catch (error) {
    // Data exceptions (22xxx) and constraint violations (23xxx) are the document's; anything else is not.
    const state = sqlState(error) ?? ''
    if (state.startsWith('22') || state.startsWith('23')) {
      throw new InvalidExport(`rows of ${batch.table} could not be loaded: ${(error as Error).message}`, { cause: error })
    }
    throw error
  }
}

function relation(qualified: string): string {
  return `${escapeIdentifier('public')}.${escapeIdentifier(bareTableName(qualified))}`
}
