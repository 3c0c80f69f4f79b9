import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { readMigrationFiles, type MigrationFile } from '../catalog/control-migrator.js'

export const tenantMigrationsDir = fileURLToPath(new URL('../../tenant-migrations/', import.meta.url))

/** Key of the per-database advisory lock that serializes migration runners. */
const TENANT_MIGRATION_LOCK = 7_411_202

export interface TenantMigrationResult {
  applied: string[]
  /** Applied files whose content changed since (reported, never re-run). */
  drift: string[]
}

/** The base migrations every tenant database gets (tenant-migrations/base/). */
export function readBaseMigrations(dir = tenantMigrationsDir): Promise<MigrationFile[]> {
  return readMigrationFiles(path.join(dir, 'base'))
}

/** A module's migrations (tenant-migrations/modules/<name>/). */
export function readModuleMigrations(name: string, dir = tenantMigrationsDir): Promise<MigrationFile[]> {
  return readMigrationFiles(path.join(dir, 'modules', name))
}

export interface MigrateOptions {
  /**
   * Run every file again, recorded or not (files must be idempotent): the repair path of a
   * module reinstall. Recorded checksums are refreshed.
   */
  reapply?: boolean
}

/**
 * Applies pending migrations of one scope ("base" or a module name) to one tenant database,
 * all in one transaction under a transaction-level advisory lock, so two runners on the same
 * database never apply a file twice. Each applied file is recorded with its checksum in
 * `tenant_migrations`; a changed checksum is reported as drift, not re-run.
 *
 * @example
 *   const result = await migrateTenantDatabase(client, 'base', await readBaseMigrations())
 */
export async function migrateTenantDatabase(client: pg.ClientBase, scope: string, files: MigrationFile[], options: MigrateOptions = {}): Promise<TenantMigrationResult> {
  await client.query('begin')
  try {
    await client.query('select pg_advisory_xact_lock($1)', [TENANT_MIGRATION_LOCK])
    await client.query(`create table if not exists tenant_migrations (
      scope text not null, name text not null, checksum text not null,
      applied_at timestamptz not null default now(), primary key (scope, name))`)
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'select name, checksum from tenant_migrations where scope = $1',
      [scope]
    )
    const done = new Map(rows.map((r) => [r.name, r.checksum]))
    const result: TenantMigrationResult = { applied: [], drift: [] }
    for (const file of files) {
      const checksum = done.get(file.name)
      if (checksum !== undefined && !options.reapply) {
        if (checksum !== file.checksum) result.drift.push(file.name)
        continue
      }
      try {
        await client.query(file.sql)
      } catch (error) {
        throw new Error(`migration ${scope}/${file.name} failed: ${(error as Error).message}`, { cause: error })
      }
      await client.query(
        `insert into tenant_migrations (scope, name, checksum) values ($1, $2, $3)
         on conflict (scope, name) do update set checksum = excluded.checksum, applied_at = now()`,
        [scope, file.name, file.checksum]
      )
      result.applied.push(file.name)
    }
    await client.query('commit')
    return result
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}
