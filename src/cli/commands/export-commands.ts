import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { TenantExportTrailer, TenantImportResult } from '../api-types.js'
import { CliError, UsageError } from '../cli-error.js'
import type { Command } from '../command.js'
import type { Output } from '../output.js'
import { ProgressBar } from '../progress-bar.js'
import { formatBytes } from '../table-format.js'
import { printTenant } from './tenant-view.js'


/** The last bytes of an export, where its trailer is. */
const TAIL_BYTES = 256 * 1024

/**
 * Counts bytes passing through, shows them on a terminal (stderr) at most 5 times a second,
 * and keeps the tail of the stream.
 */
function meter(out: Output, label: string, total?: number): { transform(): Transform; bytes(): number; tail(): Buffer; finish(): void } {
  let bytes = 0
  let tail = Buffer.alloc(0)
  let shownAt = 0
  const bar = total ? new ProgressBar(out.stderr, out.interactive) : undefined
  const show = (force = false) => {
    if (!out.interactive || out.json) return
    const now = Date.now()
    if (!force && now - shownAt < 200) return
    shownAt = now
    if (bar) bar.update((bytes / total!) * 100, `${label} ${formatBytes(bytes)} of ${formatBytes(total!)}`)
    else out.stderr.write(`\r\x1b[2K${label} ${formatBytes(bytes)}`)
  }
  // A new one per attempt (a retried upload starts over).
  const transform = () => {
    bytes = 0
    tail = Buffer.alloc(0)
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        tail = tail.length + chunk.length > TAIL_BYTES ? Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES) : Buffer.concat([tail, chunk])
        show()
        done(null, chunk)
      },
    })
  }
  return {
    transform,
    bytes: () => bytes,
    tail: () => tail,
    finish() {
      show(true)
      if (bar) bar.finish()
      else if (out.interactive && !out.json && bytes > 0) out.stderr.write('\n')
    },
  }
}

/** The trailer at the end of an export, or undefined when the document stops before it. */
function trailerOf(tail: Buffer): TenantExportTrailer | undefined {
  const text = tail.toString('utf8')
  const at = text.lastIndexOf(',"trailer":')
  if (at < 0) return undefined
  try {
    const rest = text.slice(at + ',"trailer":'.length).trimEnd()
    return rest.endsWith('}') ? (JSON.parse(rest.slice(0, -1)) as TenantExportTrailer) : undefined
  } catch {
    return undefined
  }
}

/** `tenantctl export <tenant> [-o file]`: the tenant as JSON, streamed to a file or stdout. */
export const exportTenant: Command = {
  name: 'export',
  summary: "Export a tenant as JSON (tenant record, modules, every table's rows), streamed",
  args: ['<tenant>'],
  options: {
    output: { type: 'string', short: 'o', valueName: 'file', description: 'write to this file (mode 0600) instead of stdout' },
  },
  details:
    'The document holds the tenant\'s data, its users\' password hashes included: keep it like a backup. It ends with a trailer (rows per table, SHA-256); a file is only given its name once the trailer arrived. Import it with `tenantctl import <file>`.',
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const file = input.string('output')
    const stdout = out.stdout as Writable & { isTTY?: boolean }
    if (!file && stdout.isTTY) throw new UsageError('the export is a large JSON document; give -o <file> or redirect stdout', { hint: `tenantctl export ${tenant} -o ${tenant}.json` })
    const response = await api.stream('GET', '/api/tenants/export', { query: { tenantId: tenant } })
    if (!response.body) throw new CliError('tenantd answered without a body')
    const progress = meter(out, `exporting ${tenant}:`)
    const partial = file ? `${file}.partial` : undefined
    try {
      const target = partial ? createWriteStream(partial, { mode: 0o600 }) : stdout
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), progress.transform(), target, { end: Boolean(partial) })
    } catch (error) {
      if (partial) await rm(partial, { force: true })
      throw new CliError(`the export of ${tenant} broke off after ${formatBytes(progress.bytes())}: ${(error as Error).message}`, { hint: 'run it again; `tenantctl ops` and the server log say more', cause: error })
    } finally {
      progress.finish()
    }
    const trailer = trailerOf(progress.tail())
    if (!trailer) {
      if (partial) await rm(partial, { force: true })
      throw new CliError(`the export of ${tenant} ended without its trailer (${formatBytes(progress.bytes())} received): the server stopped part way`, { hint: 'run it again; the server log says why' })
    }
    if (partial) await rename(partial, file!)
    const rows = Object.values(trailer.rows).reduce((a, b) => a + b, 0)
    const summary = { tenant, file: file ?? null, bytes: progress.bytes(), tables: Object.keys(trailer.rows).length, rows, sha256: trailer.sha256 }
    if (out.json) {
      if (file) out.printJson(summary)
      return
    }
    const line = `exported ${tenant}: ${summary.tables} tables, ${rows} rows, ${formatBytes(summary.bytes)}${file ? ` to ${file}` : ''}`
    if (file) out.success(line)
    else out.note(`✓ ${line}`)
  },
}

/** `tenantctl import <file> [--slug s] [--subdomain x] [--name n]`: a new tenant from an export. */
export const importTenant: Command = {
  name: 'import',
  summary: 'Import a JSON export as a new tenant (also one made by another tenantd)',
  args: ['<file>'],
  options: {
    slug: { type: 'string', valueName: 'slug', description: "the new tenant's slug (default: the export's)" },
    subdomain: { type: 'string', valueName: 'sub', description: 'its subdomain (default: the new slug, or the export\'s)' },
    name: { type: 'string', valueName: 'name', description: "its display name (default: the export's)" },
    plan: { type: 'string', valueName: 'plan', description: "its plan (default: the export's)" },
  },
  details:
    'The file is sent as it is, streamed. tenantd checks it whole (format, version, trailer, SHA-256) before it creates anything, then provisions the tenant with the export\'s modules and loads every row in one transaction. Give --slug (and --subdomain) to import next to the original.',
  async run({ api, out }, input) {
    const file = input.arg(0)
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`)
    })
    if (!info.isFile()) throw new UsageError(`${file} is not a file`)
    const progress = meter(out, `uploading ${file}:`, info.size)
    let response: Response
    try {
      response = await api.stream('POST', '/api/admin/tenants/restore', {
        query: { slug: input.string('slug'), subdomain: input.string('subdomain'), name: input.string('name'), plan: input.string('plan') },
        body: () => Readable.toWeb(createReadStream(file).pipe(progress.transform())) as unknown as ReadableStream<Uint8Array>,
      })
    } finally {
      progress.finish()
    }
    const result = (await response.json()) as TenantImportResult
    if (out.json) return out.printJson(result)
    out.success(`imported ${file} as ${result.tenant.slug}: ${result.tables.length} tables, ${result.rows} rows`)
    printTenant(out, result.tenant)
  },
}

export const exportCommands: Command[] = [exportTenant, importTenant]
