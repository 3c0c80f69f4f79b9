import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'

/** Where Debian's postgresql-client-15 puts pg_dump: matches the PostgreSQL 15 servers tenantd runs. */
const debianPg15 = '/usr/lib/postgresql/15/bin'

/**
 * The path of a PostgreSQL client tool: in TENANTD_PG_BIN_DIR when set, else Debian's
 * PostgreSQL 15 directory when it has the tool, else the bare name (found on PATH).
 *
 * @example
 *   pgToolPath(config.pgBinDir, 'pg_dump')   // '/usr/lib/postgresql/15/bin/pg_dump'
 */
export function pgToolPath(binDir: string | undefined, tool: 'pg_dump' | 'pg_restore'): string {
  if (binDir) return path.join(binDir, tool)
  return existsSync(path.join(debianPg15, tool)) ? path.join(debianPg15, tool) : tool
}

const versions = new Map<string, Promise<string>>()

/** `pg_dump (PostgreSQL) 15.20 (Debian ...)` → "15.20 (Debian ...)"; asked once per path. */
export function pgToolVersion(toolPath: string): Promise<string> {
  let version = versions.get(toolPath)
  if (!version) {
    version = execa(toolPath, ['--version'], { extendEnv: false, env: { PATH: process.env.PATH ?? '' } }).then((r) =>
      r.stdout.replace(/^\S+ \(PostgreSQL\) /, '').trim()
    )
    version.catch(() => versions.delete(toolPath))
    versions.set(toolPath, version)
  }
  return version
}

/** Where and as whom a client tool connects; the password reaches it only through PGPASSWORD. */
export interface PgConnection {
  host: string
  port: number
  database: string
  user: string
  password: string
}

/**
 * The complete environment of a pg_dump / pg_restore child: connection in PG* variables (the
 * password never in argv, where `ps` and /proc/<pid>/cmdline show it) and nothing inherited
 * from tenantd, whose environment holds the master key and the catalog URL.
 */
export function pgToolEnv(connection: PgConnection): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    PGHOST: connection.host,
    PGPORT: String(connection.port),
    PGDATABASE: connection.database,
    PGUSER: connection.user,
    PGPASSWORD: connection.password,
    PGCONNECT_TIMEOUT: '10',
    PGAPPNAME: 'tenantd-backup',
  }
}

/** The last lines of a tool's stderr, for an error message (they never contain the password). */
export function stderrTail(stderr: unknown): string {
  const text = typeof stderr === 'string' ? stderr : ''
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 400)
}

/**
 * The next step for pg_dump's "permission denied for table x": tenantd dumps a tenant database
 * as the tenant's role, so an object someone else created there (a superuser in psql) cannot be
 * read. Empty when the detail says something else.
 *
 * @example
 *   `pg_dump failed: ${detail}${notTheTenantsHint(detail, tenant.role_name)}`
 */
export function notTheTenantsHint(detail: string, ownerRole: string): string {
  const denied = /permission denied for (table|sequence|schema|view|materialized view|function) ([^\s|]+)/.exec(detail)
  if (!denied) return ''
  const [, kind, name] = denied
  return `. ${name} is not the tenant's: tenantd reads the database as the tenant's role ${ownerRole}, so make that role its owner (ALTER ${kind!.toUpperCase()} ${name} OWNER TO ${ownerRole}) and retry`
}

let cachedVersion: string | undefined

/** tenantd's own version (package.json), recorded with every backup. */
export function tenantdVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cachedVersion
}
