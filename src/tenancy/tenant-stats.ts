import type { SecretSealer } from '../secrets/secret-sealer.js'
import { withTenantClient } from './tenant-connection.js'
import type { TenantRecord } from './tenant-directory.js'
import type { TenantPoolCache } from './tenant-pool-cache.js'

export interface TenantStats {
  tenantId: string
  slug: string
  database: string
  sizeBytes: number
  size: string
  activeConnections: number
  connectionLimit: number
  tables: Array<{ name: string; rows: number; exact: boolean }>
  pool: { total: number; idle: number; waiting: number; leases: number } | null
  measuredAt: string
}

/** Tables with fewer estimated rows than this are counted exactly (count(*) stays cheap). */
const EXACT_COUNT_LIMIT = 100_000

/**
 * What runbook 003's monitor script prints for each tenant database (size, row counts,
 * active connections), read as the tenant's own role, plus this process's pool for it.
 *
 * @example
 *   const stats = await tenantStats(tenant, sealer, pools)
 *   // { size: '7945 kB', activeConnections: 2, tables: [{ name: 'cp_orcamentos', rows: 63, exact: true }, ...] }
 */
export async function tenantStats(tenant: TenantRecord, sealer: SecretSealer, pools: TenantPoolCache): Promise<TenantStats> {
  return withTenantClient(tenant, sealer, async (client) => {
    const size = await client.query<{ bytes: string; pretty: string; connections: number }>(
      `select pg_database_size(current_database()) as bytes, pg_size_pretty(pg_database_size(current_database())) as pretty,
              (select count(*)::int from pg_stat_activity where datname = current_database()) as connections`
    )
    const estimates = await client.query<{ name: string; estimate: string }>(
      `select c.relname as name, greatest(coalesce(s.n_live_tup, 0), c.reltuples)::bigint as estimate
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         left join pg_stat_user_tables s on s.relid = c.oid
        where n.nspname = 'public' and c.relkind = 'r' and c.relname <> 'tenant_migrations'
        order by c.relname`
    )
    const tables: TenantStats['tables'] = []
    for (const row of estimates.rows) {
      const estimate = Number(row.estimate)
      if (estimate < EXACT_COUNT_LIMIT) {
        const count = await client.query<{ n: number }>(`select count(*)::int as n from public.${client.escapeIdentifier(row.name)}`)
        tables.push({ name: row.name, rows: count.rows[0]?.n ?? 0, exact: true })
      } else {
        tables.push({ name: row.name, rows: estimate, exact: false })
      }
    }
    const pool = pools.stats().tenants.find((t) => t.tenantId === tenant.id)
    return {
      tenantId: tenant.id,
      slug: tenant.slug,
      database: tenant.database_name,
      sizeBytes: Number(size.rows[0]?.bytes ?? 0),
      size: size.rows[0]?.pretty ?? '0 bytes',
      // This connection is one of them.
      activeConnections: Math.max(0, (size.rows[0]?.connections ?? 1) - 1),
      connectionLimit: tenant.plan_max_connections,
      tables,
      pool: pool ? { total: pool.total, idle: pool.idle, waiting: pool.waiting, leases: pool.leases } : null,
      measuredAt: new Date().toISOString(),
    }
  })
}
