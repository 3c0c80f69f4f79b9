import pg from 'pg'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantRecord } from './tenant-directory.js'

/**
 * The role a tenant's connections log in as: the current login role of its credential
 * rotation (`<role_name>_a` or `_b`, members of the owner role that start every session as
 * it), or the owner role itself for a tenant never rotated. `password_sealed` is this role's
 * password. Objects are owned by `role_name` either way.
 */
export function loginRoleOf(tenant: Pick<TenantRecord, 'role_name' | 'login_role'>): string {
  return tenant.login_role ?? tenant.role_name
}

/**
 * How to reach a tenant's database with its current credential (password opened from its
 * seal). `user` is the login role (see loginRoleOf); every session runs as the owner role.
 * The password lives only in this object and in the pg connection; never log it.
 */
export function tenantClientConfig(tenant: TenantRecord, sealer: SecretSealer): pg.ClientConfig & { user: string; password: string } {
  return {
    host: tenant.host_address,
    port: tenant.host_port,
    database: tenant.database_name,
    user: loginRoleOf(tenant),
    password: sealer.open(tenant.password_sealed),
    connectionTimeoutMillis: 5_000,
  }
}

/** Runs fn on a fresh, unpooled connection as the tenant's role (migrations, checks). */
export async function withTenantClient<T>(tenant: TenantRecord, sealer: SecretSealer, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(tenantClientConfig(tenant, sealer))
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * The two login roles a tenant's credential rotation alternates between. Derived from the
 * owner role's name (itself allowlisted), at most 55 characters.
 */
export function rotationLoginRoles(roleName: string): [string, string] {
  return [`${roleName}_a`, `${roleName}_b`]
}
