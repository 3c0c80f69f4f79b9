import pg from 'pg'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantRecord } from './tenant-directory.js'

/**
 * How to reach a tenant's database as the tenant's own role (password opened from its seal).
 * The password lives only in this object and in the pg connection; never log it.
 */
export function tenantClientConfig(tenant: TenantRecord, sealer: SecretSealer): pg.ClientConfig & { password: string } {
  return {
    host: tenant.host_address,
    port: tenant.host_port,
    database: tenant.database_name,
    user: tenant.role_name,
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
