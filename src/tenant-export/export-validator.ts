import { InvalidExport } from '../errors.js'
import {
  COLUMN_NAME,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  TABLE_NAME,
  type ExportedMigration,
  type ExportedSequence,
  type ExportedTenant,
  type ExportTrailer,
} from './export-format.js'
import type { ScanHandler } from './export-scanner.js'

/** What a complete, intact export holds, without its rows. */
export interface ExportSummary {
  tenant: ExportedTenant
  migrations: ExportedMigration[]
  tables: Array<{ name: string; columns: string[]; rows: number }>
  sequences: ExportedSequence[]
  trailer: ExportTrailer
  source: { tenantId?: string; tenantd?: string } | undefined
}

/**
 * Checks an export document as the scanner reads it: format and version first, then the
 * shape of every member, table and row (as many values as columns). finish() compares the
 * trailer with what was read: rows per table and the content digest.
 *
 * @example
 *   const validator = new ExportValidator()
 *   const scanner = new ExportScanner(validator, { digest: true })
 *   ... scanner.write(chunk) ...; scanner.end()
 *   const summary = validator.finish(scanner.digest())
 */
export class ExportValidator implements ScanHandler {
  readonly #seen = new Set<string>()
  #tenant: ExportedTenant | undefined
  #migrations: ExportedMigration[] | undefined
  #sequences: ExportedSequence[] | undefined
  #trailer: ExportTrailer | undefined
  #source: ExportSummary['source']
  readonly #tables: ExportSummary['tables'] = []
  #table: { name?: string; columns?: string[]; rows: number; hasRows: boolean } | undefined
  /** Called with header members as soon as they are read (so callers can refuse early). */
  readonly #onHeader: ((key: 'tenant' | 'migrations', value: unknown) => void) | undefined

  constructor(onHeader?: (key: 'tenant' | 'migrations', value: unknown) => void) {
    this.#onHeader = onHeader
  }

  member(key: string, value: unknown, index: number): void {
    if (index === 0 && (key !== 'format' || value !== EXPORT_FORMAT)) {
      throw new InvalidExport(`this is not a tenantd export: it must start with "format": "${EXPORT_FORMAT}" (GET /api/tenants/export or \`tenantctl export\` make one)`)
    }
    if (this.#seen.has(key)) throw new InvalidExport(`the export has "${key}" twice`)
    this.#seen.add(key)
    switch (key) {
      case 'version':
        if (value !== EXPORT_VERSION) {
          throw new InvalidExport(`this export is version ${JSON.stringify(value)}; this tenantd reads version ${EXPORT_VERSION}. Import it with the tenantd that made it, or export it again with this one`)
        }
        return
      case 'tenant':
        this.#tenant = checkTenant(value)
        this.#onHeader?.('tenant', this.#tenant)
        return
      case 'migrations':
        this.#migrations = checkList(value, 'migrations', (m) => typeof m.scope === 'string' && typeof m.name === 'string' && typeof m.checksum === 'string') as ExportedMigration[]
        this.#onHeader?.('migrations', this.#migrations)
        return
      case 'sequences':
        this.#sequences = checkList(
          value,
          'sequences',
          (s) => typeof s.name === 'string' && TABLE_NAME.test(s.name) && typeof s.lastValue === 'string' && /^-?[0-9]{1,19}$/.test(s.lastValue) && typeof s.isCalled === 'boolean'
        ) as ExportedSequence[]
        return
      case 'trailer':
        this.#trailer = checkTrailer(value)
        return
      case 'source':
        this.#source = typeof value === 'object' && value !== null ? (value as ExportSummary['source']) : undefined
        return
      default:
        // exportedAt, and members of later minor versions: informational.
        return
    }
  }

  tablesStart(): void {
    this.#seen.add('tables')
    for (const needed of ['version', 'tenant', 'migrations']) {
      if (!this.#seen.has(needed)) throw new InvalidExport(`the export has no "${needed}" before its tables; it was not made by tenantd`)
    }
  }

  tableStart(): void {
    this.#table = { rows: 0, hasRows: false }
  }

  tableMember(key: string, value: unknown): void {
    const table = this.#table!
    if (key === 'name') {
      if (typeof value !== 'string' || !TABLE_NAME.test(value)) throw new InvalidExport(`a table name must be "public.<name>", got ${JSON.stringify(value).slice(0, 80)}`)
      if (this.#tables.some((t) => t.name === value)) throw new InvalidExport(`table ${value} appears twice`)
      table.name = value
    } else if (key === 'columns') {
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'string' && COLUMN_NAME.test(c)) || new Set(value).size !== value.length) {
        throw new InvalidExport(`the columns of ${table.name ?? 'a table'} must be distinct column names`)
      }
      table.columns = value as string[]
    }
  }

  rowsStart(): void {
    const table = this.#table!
    if (!table.name || !table.columns) throw new InvalidExport('a table must give "name" and "columns" before its "rows"')
    table.hasRows = true
  }

  row(_json: Buffer | undefined, values: number): void {
    const table = this.#table!
    table.rows++
    if (values !== table.columns!.length) {
      throw new InvalidExport(`row ${table.rows} of ${table.name} has ${values} values for ${table.columns!.length} columns`)
    }
  }

  tableEnd(): void {
    const table = this.#table!
    if (!table.hasRows) throw new InvalidExport(`table ${table.name ?? '?'} has no "rows"`)
    this.#tables.push({ name: table.name!, columns: table.columns!, rows: table.rows })
    this.#table = undefined
  }

  /** After the scanner's end(): the summary, or why the document is incomplete or damaged. */
  finish(digest: string): ExportSummary {
    if (!this.#seen.has('tables')) throw new InvalidExport('the export has no "tables"; it was not made by tenantd')
    const trailer = this.#trailer
    if (!trailer) throw new InvalidExport('the export has no trailer: it was cut short or edited; export it again')
    for (const table of this.#tables) {
      const recorded = trailer.rows[table.name]
      if (recorded !== table.rows) {
        throw new InvalidExport(`the export is damaged: ${table.name} holds ${table.rows} rows but its trailer says ${recorded ?? 'none'}; export it again`)
      }
    }
    const missing = Object.keys(trailer.rows).filter((name) => !this.#tables.some((t) => t.name === name))
    if (missing.length) throw new InvalidExport(`the export is damaged: its trailer lists ${missing.slice(0, 5).join(', ')}, which it does not hold; export it again`)
    if (digest !== trailer.sha256) throw new InvalidExport('the export is damaged: its content does not match the SHA-256 in its trailer (changed or corrupted on the way); export it again')
    return { tenant: this.#tenant!, migrations: this.#migrations!, tables: this.#tables, sequences: this.#sequences ?? [], trailer, source: this.#source }
  }
}

function checkTenant(value: unknown): ExportedTenant {
  const t = value as Partial<ExportedTenant> | null
  const text = (v: unknown) => typeof v === 'string'
  if (!t || typeof t !== 'object' || !text(t.slug) || !text(t.name) || !text(t.subdomain) || !text(t.plan) || !Array.isArray(t.modules) || !t.modules.every(text)) {
    throw new InvalidExport('the export\'s "tenant" must carry slug, subdomain, name, plan and modules')
  }
  return { slug: t.slug!, subdomain: t.subdomain!, name: t.name!, contactEmail: text(t.contactEmail) ? t.contactEmail! : '', plan: t.plan!, status: text(t.status) ? t.status! : 'active', modules: t.modules as string[] }
}

function checkList(value: unknown, what: string, ok: (item: Record<string, unknown>) => boolean): unknown[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null && ok(item as Record<string, unknown>))) {
    throw new InvalidExport(`the export's "${what}" is malformed`)
  }
  return value
}

function checkTrailer(value: unknown): ExportTrailer {
  const t = value as Partial<ExportTrailer> | null
  if (
    !t || typeof t !== 'object' || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256) ||
    typeof t.rows !== 'object' || t.rows === null || !Object.values(t.rows).every((n) => Number.isInteger(n) && (n as number) >= 0)
  ) {
    throw new InvalidExport('the export\'s trailer is malformed; export it again')
  }
  return { rows: t.rows, sha256: t.sha256 }
}
