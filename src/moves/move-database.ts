import { execa } from 'execa'
import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { databaseExists } from '../backups/database-swap.js'
import { notTheTenantsHint, pgToolEnv, pgToolPath, stderrTail, type PgConnection } from '../backups/pg-client-tools.js'
import type { DbHostRow } from '../catalog/catalog-schema.js'
import { SqlState, sqlState } from '../errors.js'
import { stampedDatabaseName } from '../hosts/database-names.js'
import { dropDatabase, withSessionsEnded } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { loginRoleOf } from '../tenancy/tenant-connection.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { moveSchema } from './table-copy.js'

/** How long the tenant's own sessions on the source get to finish their statements before they are ended. */
const drainMs = 2_000

/** The tenant's roles on a host: the owner, and the login role of its credential rotation when it has one. */
export function tenantRoles(tenant: Pick<TenantRecord, 'role_name' | 'login_role'>): string[] {
  const login = loginRoleOf(tenant)
  return login === tenant.role_name ? [tenant.role_name] : [login, tenant.role_name]
}

/**
 * Creates (or re-enables) the tenant's roles on a host as credential rotation has them: the
 * owner role (logging in itself for a tenant never rotated) and, when the tenant logs in as a
 * rotation role (`<role>_a`/`_b`), that role, a member of the owner starting every session as
 * it. The host admin becomes a member of both (to own and reach the database, to end sessions).
 */
export async function ensureRoles(hosts: HostRegistry, host: DbHostRow, tenant: TenantRecord, password: string): Promise<void> {
  const login = loginRoleOf(tenant)
  await hosts.withAdminClient(host, async (client) => {
    const upsert = async (name: string, options: string) => {
      try {
        await client.query(`CREATE ROLE ${escapeIdentifier(name)} ${options} NOSUPERUSER`)
      } catch (error) {
        if (sqlState(error) !== SqlState.duplicateObject) throw error
        await client.query(`ALTER ROLE ${escapeIdentifier(name)} ${options}`)
      }
      await client.query(`GRANT ${escapeIdentifier(name)} TO CURRENT_USER`).catch((error) => {
        if (sqlState(error) !== SqlState.duplicateObject) throw error
      })
    }
    const limits = `CONNECTION LIMIT ${tenant.plan_max_connections} NOCREATEDB NOCREATEROLE`
    const withPassword = `LOGIN PASSWORD ${escapeLiteral(password)} ${limits}`
    if (login === tenant.role_name) {
      await upsert(tenant.role_name, withPassword)
      return
    }
    await upsert(tenant.role_name, `NOLOGIN ${limits}`)
    await upsert(login, `${withPassword} INHERIT`)
    await client.query(`GRANT ${escapeIdentifier(tenant.role_name)} TO ${escapeIdentifier(login)}`)
    await client.query(`ALTER ROLE ${escapeIdentifier(login)} SET role = ${escapeLiteral(tenant.role_name)}`)
  })
}

/** Drops and creates the tenant's (empty) database on a host, owned by its role, closed to PUBLIC. */
export async function recreateDatabase(hosts: HostRegistry, host: DbHostRow, tenant: TenantRecord): Promise<void> {
  await hosts.withAdminClient(host, async (client) => {
    const db = escapeIdentifier(tenant.database_name)
    await dropDatabase(client, tenant.database_name)
    await client.query(`CREATE DATABASE ${db} OWNER ${escapeIdentifier(tenant.role_name)} ENCODING 'UTF8' TEMPLATE template0`)
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`)
  })
}

/**
 * Drops what a move made on its target: the database, and the role unless it still owns
 * something there (a database kept by an earlier move), in which case it only loses LOGIN.
 */
export async function dropTargetCopy(hosts: HostRegistry, host: DbHostRow, tenant: Pick<TenantRecord, 'database_name' | 'role_name' | 'login_role'>): Promise<void> {
  await hosts.withAdminClient(host, async (client) => {
    await dropDatabase(client, tenant.database_name)
    await dropRoles(client, tenantRoles(tenant))
  })
}

/** Drops roles (login roles first); one that still owns something on the host only loses LOGIN. */
export async function dropRoles(client: pg.ClientBase, roles: string[]): Promise<void> {
  for (const role of roles) {
    try {
      await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`)
    } catch (error) {
      if (sqlState(error) !== SqlState.dependentObjects) throw error
      await client.query(`ALTER ROLE ${escapeIdentifier(role)} NOLOGIN`)
    }
  }
}

/**
 * The tenant's schema (no rows) as a pg_dump custom-format archive, held in memory: a schema is
 * kilobytes, and one dump serves both restores (`pre-data` before the rows, `post-data` after).
 * pg_dump logs in as the host admin and reads as the tenant's owner role (`--role`): the
 * tenant's own login is refused on the source under the freeze. Passwords go in the
 * environment, never in argv.
 */
export async function dumpSchema(pgBinDir: string | undefined, source: PgConnection & { role: string }): Promise<Buffer> {
  const args = ['--format=custom', '--schema-only', '--no-owner', '--no-acl', '--no-password', `--exclude-schema=${moveSchema}`, `--role=${source.role}`]
  try {
    const { stdout } = await execa(pgToolPath(pgBinDir, 'pg_dump'), args, { extendEnv: false, env: pgToolEnv(source), stdin: 'ignore', encoding: 'buffer', stripFinalNewline: false })
    return Buffer.from(stdout)
  } catch (error) {
    const detail = stderrTail(Buffer.from((error as { stderr?: Uint8Array }).stderr ?? []).toString())
    throw new Error(`reading the schema on the source ${source.host}:${source.port} failed: ${detail || (error as Error).message.split('\n')[0]}${notTheTenantsHint(detail, source.role)}`, { cause: error })
  }
}

/**
 * Restores one section of a schema archive (dumpSchema) on the target as the tenant's role, in
 * one transaction: `pre-data` (tables, types, functions) or `post-data` (indexes, constraints,
 * triggers). post-data is restored with --clean so a retry replaces what an interrupted one made.
 */
export async function restoreSchemaSection(pgBinDir: string | undefined, archive: Buffer, target: PgConnection, section: 'pre-data' | 'post-data'): Promise<void> {
  const args = ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--section=${section}`, `--dbname=${target.database}`, ...(section === 'post-data' ? ['--clean', '--if-exists'] : [])]
  try {
    await execa(pgToolPath(pgBinDir, 'pg_restore'), args, { extendEnv: false, env: pgToolEnv(target), input: archive })
  } catch (error) {
    const detail = stderrTail((error as { stderr?: unknown }).stderr)
    throw new Error(`copying the schema (${section}) to the target ${target.host}:${target.port} failed: ${detail || (error as Error).message.split('\n')[0]}`, { cause: error })
  }
}

/**
 * Stops the tenant's role from writing on the source: new logins refused (NOLOGIN), running
 * statements given up to 2 s to finish, then every session of the role in the database
 * ended. Idempotent; the freeze already stops tenantd's own traffic.
 */
export async function closeSourceToTenant(client: pg.ClientBase, tenant: Pick<TenantRecord, 'database_name' | 'role_name' | 'login_role'>): Promise<void> {
  const roles = tenantRoles(tenant)
  for (const role of roles) await client.query(`ALTER ROLE ${escapeIdentifier(role)} NOLOGIN`)
  const busy = `select pid from pg_stat_activity where datname = $1 and usename = any($2::text[]) and pid <> pg_backend_pid()`
  const deadline = Date.now() + drainMs
  while (Date.now() < deadline) {
    const { rowCount } = await client.query(`${busy} and state <> 'idle'`, [tenant.database_name, roles])
    if (!rowCount) break
    await new Promise((r) => setTimeout(r, 20))
  }
  for (let i = 0; i < 100; i++) {
    const { rows } = await client.query<{ pid: number }>(busy, [tenant.database_name, roles])
    if (!rows.length) return
    await client.query('select pg_terminate_backend(pid) from unnest($1::int[]) pid', [rows.map((r) => r.pid)])
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`sessions of ${roles.join(', ')} on the source did not end`)
}

/** Lets the tenant's role log in on the source again (a move that did not switch). */
export async function reopenSourceToTenant(client: pg.ClientBase, tenant: Pick<TenantRecord, 'role_name' | 'login_role'>): Promise<void> {
  await client.query(`ALTER ROLE ${escapeIdentifier(loginRoleOf(tenant))} LOGIN`)
}

/** Renames the source database to its kept name and closes it to connections; idempotent. */
export async function keepSourceDatabase(client: pg.ClientBase, database: string, kept: string): Promise<void> {
  const exists = (name: string) => databaseExists(client, name)
  if (await exists(database)) {
    if (await exists(kept)) throw new Error(`both ${database} and ${kept} exist on the source host; resolve by hand`)
    await client.query(`ALTER DATABASE ${escapeIdentifier(database)} WITH ALLOW_CONNECTIONS false`)
    await withSessionsEnded(client, database, () => client.query(`ALTER DATABASE ${escapeIdentifier(database)} RENAME TO ${escapeIdentifier(kept)}`))
  }
  if (await exists(kept)) await client.query(`ALTER DATABASE ${escapeIdentifier(kept)} WITH ALLOW_CONNECTIONS false`)
}

/** The name a move keeps its source database under (see stampedDatabaseName). */
export function keptDatabaseName(database: string, at: Date): string {
  return stampedDatabaseName(database, 'moved', at)
}

/** Connection of the tenant's role to its database on a host (for pg_dump / pg_restore and pg). */
export function tenantConnection(host: DbHostRow, tenant: TenantRecord, password: string): PgConnection {
  return { host: host.host, port: host.port, database: tenant.database_name, user: loginRoleOf(tenant), password }
}

/** Runs fn on a fresh connection as the tenant's role to its database on `host`. */
export async function withTenantOn<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 5_000, application_name: 'tenantd-move' })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}
