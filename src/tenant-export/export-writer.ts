import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import pg from 'pg'
import { escapeIdentifier } from 'pg'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportedMigration, type ExportedSequence, type ExportedTenant } from './export-format.js'
import { CopyOutStream } from './copy-out-stream.js'
import { readTenantSchema, type SchemaTable } from './tenant-schema-reader.js'

const COMMA = Buffer.from(',')
const NEWLINE = Buffer.from('\n')
const COMMA_NEWLINE = Buffer.from(',\n')

/**
 * Settings of both export and import sessions, so every value's text form reads back as the
 * same value: UTC instants, ISO dates, hex bytea, shortest exact floats.
 */
export const TEXT_FORM_SETTINGS = [
  "set local timezone = 'UTC'",
  "set local datestyle = 'ISO, YMD'",
  "set local intervalstyle = 'postgres'",
  "set local bytea_output = 'hex'",
  'set local extra_float_digits = 1',
]

export interface TenantExportStream {
  /** The document, produced as fast as it is read (backpressure), never held whole. */
  stream: Readable
  /** e.g. "acme-export-20250101T120000Z.json" */
  filename: string
}

export interface ExportWriterOptions {
  tenantdVersion: string
  /** Called once the stream ended, failed or was abandoned (after the connection closed). */
  onDone?: (outcome: { ok: boolean; rows: number; error?: Error }) => void
}

/**
 * Opens an export of a tenant's database: one REPEATABLE READ READ ONLY transaction (every
 * table from the same snapshot), tables in foreign-key dependency order, each read in
 * primary-key order through `COPY (SELECT ...) TO STDOUT` (one JSON array per line, as bytes)
 * at the pace the reader takes it (the socket is paused while it is behind). Connection problems
 * surface here, before anything is streamed; a failure mid-stream destroys the stream, so the
 * reader sees a document without its trailer.
 *
 * @example
 *   const { stream, filename } = await openTenantExport(tenant, sealer, { tenantdVersion: '0.1.0' })
 *   stream.pipe(createWriteStream(filename))
 */
export async function openTenantExport(tenant: TenantRecord, sealer: SecretSealer, options: ExportWriterOptions): Promise<TenantExportStream> {
  const client = new pg.Client(tenantClientConfig(tenant, sealer))
  client.on('error', () => {})
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    // Ending the session ends its read-only transaction. No rollback first: after an
    // abandoned COPY it would wait behind it; end() cuts the socket when a query is active.
    await client.end().catch(() => {})
  }
  let header: string
  let tables: SchemaTable[]
  let sequences: ExportedSequence[]
  try {
    await client.connect()
    await client.query('begin isolation level repeatable read read only')
    for (const statement of TEXT_FORM_SETTINGS) await client.query(statement)
    const schema = await readTenantSchema(client)
    tables = schema.tables
    const migrations = await readMigrations(client)
    sequences = await readSequences(client, schema.sequences)
    const version = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v
    const exported: ExportedTenant = {
      slug: tenant.slug,
      subdomain: tenant.subdomain,
      name: tenant.name,
      contactEmail: tenant.contact_email ?? '',
      plan: tenant.plan_id,
      status: tenant.status,
      modules: [...tenant.modules].sort(),
    }
    header =
      `{"format":${JSON.stringify(EXPORT_FORMAT)},"version":${EXPORT_VERSION},"exportedAt":${JSON.stringify(new Date().toISOString())}` +
      `,"source":${JSON.stringify({ tenantId: tenant.id, tenantd: options.tenantdVersion, postgres: version })}` +
      `,"tenant":${JSON.stringify(exported)},"migrations":${JSON.stringify(migrations)},"tables":[`
  } catch (error) {
    await close()
    throw error
  }

  let rowsWritten = 0
  async function* generate(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256')
    const counts: Record<string, number> = {}
    // `hashed` is the content; the line breaks around it are layout and stay out of the digest.
    const piece = (hashed: string, layout = '') => {
      hash.update(hashed)
      return Buffer.from(layout + hashed)
    }
    let outcome: { ok: boolean; error?: Error } = { ok: false }
    try {
      yield piece(header)
      for (const [index, table] of tables.entries()) {
        const columns = table.columns.map((c) => c.name)
        if (index) yield piece(',')
        yield piece(`{"name":${JSON.stringify(table.name)},"columns":${JSON.stringify(columns)},"types":${JSON.stringify(table.columns.map((c) => c.type))},"rows":[`, '\n')
        let count = 0
        let atRowStart = true
        // One line per row from COPY; each becomes "\n<row>" or ",\n<row>" (the commas are content, the line breaks layout).
        const copy = client.query(new CopyOutStream(`copy (${rowQuery(table)}) to stdout with (format csv, delimiter E'\\x02', quote E'\\x01')`))
        for await (const chunk of copy as AsyncIterable<Buffer>) {
          const pieces: Buffer[] = []
          let start = 0
          while (start < chunk.length) {
            if (atRowStart) {
              if (count) hash.update(COMMA)
              pieces.push(count ? COMMA_NEWLINE : NEWLINE)
              atRowStart = false
            }
            const end = chunk.indexOf(0x0a, start)
            const row = chunk.subarray(start, end < 0 ? chunk.length : end)
            hash.update(row)
            pieces.push(row)
            if (end < 0) break
            count++
            rowsWritten++
            atRowStart = true
            start = end + 1
          }
          yield Buffer.concat(pieces)
        }
        counts[table.name] = count
        yield piece(']}', '\n')
      }
      yield piece(`],"sequences":${JSON.stringify(sequences)}`, '\n')
      await close()
      // Not part of the digest: the trailer carries it.
      yield Buffer.from(`,"trailer":${JSON.stringify({ rows: counts, sha256: hash.digest('hex') })}}\n`)
      outcome = { ok: true }
    } catch (error) {
      outcome = { ok: false, error: error as Error }
      throw error
    } finally {
      await close()
      options.onDone?.({ ...outcome, rows: rowsWritten })
    }
  }

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return {
    stream: Readable.from(generate(), { objectMode: false, highWaterMark: 64 * 1024 }),
    filename: `${tenant.slug}-export-${stamp}.json`,
  }
}

/** One JSON array of text values per row, in primary-key order (physical order without one). */
function rowQuery(table: SchemaTable): string {
  const from = `${escapeIdentifier('public')}.${escapeIdentifier(table.table)}`
  const values = table.columns.length ? `to_json(array[${table.columns.map((c) => `${escapeIdentifier(c.name)}::text`).join(', ')}])::text` : `'[]'::text`
  const order = table.primaryKey.length ? ` order by ${table.primaryKey.map((c) => escapeIdentifier(c)).join(', ')}` : ''
  return `select ${values} as r from ${from}${order}`
}

async function readMigrations(client: pg.ClientBase): Promise<ExportedMigration[]> {
  const exists = await client.query<{ t: string | null }>(`select to_regclass('public.tenant_migrations')::text as t`)
  if (!exists.rows[0]!.t) return []
  const { rows } = await client.query<ExportedMigration>('select scope, name, checksum from tenant_migrations order by scope, name')
  return rows
}

async function readSequences(client: pg.ClientBase, names: string[]): Promise<ExportedSequence[]> {
  const sequences: ExportedSequence[] = []
  for (const name of names) {
    const relation = `${escapeIdentifier('public')}.${escapeIdentifier(name.slice('public.'.length))}`
    const { rows } = await client.query<{ last_value: string; is_called: boolean }>(`select last_value::text as last_value, is_called from ${relation}`)
    sequences.push({ name, lastValue: rows[0]!.last_value, isCalled: rows[0]!.is_called })
  }
  return sequences
}
