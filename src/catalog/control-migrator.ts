import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

export const controlMigrationsDir = fileURLToPath(new URL('../../control-migrations/', import.meta.url))

/** Advisory lock key shared by every replica: only one of them migrates the catalog. */
const CONTROL_MIGRATION_LOCK = 7_411_201

export interface MigrationFile {
  name: string
  sql: string
  checksum: string
}

export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
  )
}

/**
 * Applies control-migrations/*.sql to the catalog in name order, each in its own
 * transaction, under a session advisory lock so concurrent starts never collide. A file
 * whose checksum changed after it was applied stops the start: catalog history is not
 * rewritten silently.
 *
 * @example
 *   const applied = await migrateCatalog(catalog.pool) // ['0001_catalog.sql']
 */
export async function migrateCatalog(pool: pg.Pool, dir = controlMigrationsDir): Promise<string[]> {
  const files = await readMigrationFiles(dir)
  const client = await pool.connect()
  const applied: string[] = []
  try {
    await client.query('select pg_advisory_lock($1)', [CONTROL_MIGRATION_LOCK])
    await client.query(`create table if not exists control_migrations (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`)
    const { rows } = await client.query<{ name: string; checksum: string }>('select name, checksum from control_migrations')
    const done = new Map(rows.map((r) => [r.name, r.checksum]))
    for (const file of files) {
      const checksum = done.get(file.name)
      if (checksum !== undefined) {
        if (checksum !== file.checksum) {
          throw new Error(`control migration ${file.name} changed after it was applied; restore the original file and add a new migration instead`)
        }
        continue
      }
      await client.query('begin')
      try {
        await client.query(file.sql)
        await client.query('insert into control_migrations (name, checksum) values ($1, $2)', [file.name, file.checksum])
        await client.query('commit')
      } catch (error) {
        await client.query('rollback')
        throw new Error(`control migration ${file.name} failed: ${(error as Error).message}`, { cause: error })
      }
      applied.push(file.name)
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [CONTROL_MIGRATION_LOCK]).catch(() => {})
    client.release()
  }
  return applied
}
