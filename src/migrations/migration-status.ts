import type pg from 'pg'
import type { MigrationFile } from '../catalog/control-migrator.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { readBaseMigrations, readModuleMigrations } from './tenant-migrator.js'

/** Where one migration file stands in one tenant database. */
export type MigrationState = 'applied' | 'pending' | 'drift' | 'not_installed' | 'error'

export const migrationStates: readonly MigrationState[] = ['applied', 'pending', 'drift', 'not_installed', 'error']

/** The migration files of one scope: "base" or a module name. */
export interface MigrationScope {
  scope: string
  files: MigrationFile[]
}

/** A migration's name across the fleet: "<scope>/<file>", e.g. "base/0001_base.sql". */
export function migrationKey(scope: string, file: string): string {
  return `${scope}/${file}`
}

/**
 * Every migration tenantd knows: base first, then each module's in dependency order, read
 * from tenant-migrations/ once per call (the files may change between runs).
 */
export async function readMigrationScopes(dir: string, modules: ModuleRegistry): Promise<MigrationScope[]> {
  const order = modules.installOrder(modules.list().map((m) => m.name))
  const scopes = await Promise.all([
    readBaseMigrations(dir).then((files) => ({ scope: 'base', files })),
    ...order.map(async (m) => ({ scope: m.name, files: await readModuleMigrations(m.name, dir) })),
  ])
  return scopes
}

/** The scopes a tenant's database gets: base, then its installed modules, dependencies first. */
export function tenantScopeNames(tenant: Pick<TenantRecord, 'modules'>, modules: ModuleRegistry): string[] {
  const installed = tenant.modules.filter((name) => modules.has(name))
  return ['base', ...modules.installOrder(installed).map((m) => m.name)]
}

/** `tenant_migrations` of a tenant database as "scope/name" → checksum (empty before the first migration). */
export async function readAppliedMigrations(client: pg.ClientBase): Promise<Map<string, string>> {
  const { rows: exists } = await client.query<{ present: boolean }>("select to_regclass('tenant_migrations') is not null as present")
  if (!exists[0]?.present) return new Map()
  const { rows } = await client.query<{ scope: string; name: string; checksum: string }>('select scope, name, checksum from tenant_migrations')
  return new Map(rows.map((r) => [migrationKey(r.scope, r.name), r.checksum]))
}

/**
 * The state of every known migration file in one tenant database: applied (same checksum),
 * drift (applied, file changed since), pending, or not_installed (the module is not installed).
 */
export function compareMigrations(scopes: readonly MigrationScope[], installedScopes: readonly string[], applied: ReadonlyMap<string, string>): Record<string, MigrationState> {
  const cells: Record<string, MigrationState> = {}
  for (const { scope, files } of scopes) {
    const installed = installedScopes.includes(scope)
    for (const file of files) {
      const key = migrationKey(scope, file.name)
      const checksum = applied.get(key)
      cells[key] = !installed ? 'not_installed' : checksum === undefined ? 'pending' : checksum === file.checksum ? 'applied' : 'drift'
    }
  }
  return cells
}

/** One row of the tenant × migration matrix. */
export interface TenantMigrationStatus {
  id: string
  slug: string
  hostName: string
  cells: Record<string, MigrationState>
  /** Why the database could not be read (every cell is then "error"). */
  error?: string
}

export interface MigrationMatrix {
  /** Columns: every known migration, "scope/file". */
  migrations: string[]
  tenants: TenantMigrationStatus[]
  summary: {
    tenants: number
    upToDate: number
    withPending: number
    withDrift: number
    withErrors: number
    /** How many cells are in each state. */
    cells: Record<MigrationState, number>
  }
}

/** Counts the rows of a matrix for its summary. */
export function summarizeMatrix(migrations: string[], tenants: TenantMigrationStatus[]): MigrationMatrix {
  const cells = Object.fromEntries(migrationStates.map((s) => [s, 0])) as Record<MigrationState, number>
  let upToDate = 0
  let withPending = 0
  let withDrift = 0
  let withErrors = 0
  for (const tenant of tenants) {
    const states = Object.values(tenant.cells)
    for (const state of states) cells[state]++
    if (tenant.error !== undefined) withErrors++
    if (states.includes('pending')) withPending++
    if (states.includes('drift')) withDrift++
    if (tenant.error === undefined && states.every((s) => s === 'applied' || s === 'not_installed')) upToDate++
  }
  return { migrations, tenants, summary: { tenants: tenants.length, upToDate, withPending, withDrift, withErrors, cells } }
}
