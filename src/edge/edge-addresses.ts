import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'

/** One address the edge routes: a tenant's subdomain address or one of its verified domains. */
export interface EdgeAddress {
  address: string
  tenantSlug: string
  /** served: proxied to tenantd; maintenance: a 503 page (suspended or canceled tenant). */
  route: 'served' | 'maintenance'
}

/** The routing table at one generation, read in one snapshot, with what the edge last applied. */
export interface EdgeSnapshot {
  generation: number
  addresses: EdgeAddress[]
  /** The generation Caddy last took (edge_state), and whether the last sync ended in an error. */
  appliedGeneration: number
  failing: boolean
}

/** Only names the resolver could ever have produced reach the Caddyfile. */
const SAFE_ADDRESS = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/

/**
 * Reads what the edge must route, with the generation it belongs to and the edge's applied
 * state, in one statement (one snapshot, so the number and the rows agree, and one round trip:
 * a sync runs on every routing change). Active tenants are served; suspended and canceled
 * ones get the maintenance page; every other status (provisioning, failed, deleted) and
 * purged tenants are not routed at all.
 * Custom domains count once verified.
 *
 * @example
 *   const { generation, addresses } = await readEdgeSnapshot(catalog, 'example.com')
 */
export async function readEdgeSnapshot(catalog: CatalogDb, baseDomain: string): Promise<EdgeSnapshot> {
  const { rows } = await sql<{ generation: string; applied: string; failing: boolean; addresses: Array<{ address: string; slug: string; status: string }> }>`
    select g.generation, s.applied_generation as applied, s.last_error is not null as failing,
           coalesce((select json_agg(a order by a.address) from (
             select t.subdomain || '.' || ${baseDomain} as address, t.slug, t.status
               from tenants t
              where t.purged_at is null and t.status in ('active', 'suspended', 'canceled')
             union all
             select d.domain, t.slug, t.status
               from tenant_domains d join tenants t on t.id = d.tenant_id
              where d.status = 'verified' and t.purged_at is null and t.status in ('active', 'suspended', 'canceled')
           ) a), '[]') as addresses
      from edge_generation g cross join edge_state s`.execute(catalog)
  const row = rows[0]!
  const addresses = row.addresses
    .filter((a) => SAFE_ADDRESS.test(a.address))
    .map((a): EdgeAddress => ({ address: a.address, tenantSlug: a.slug, route: a.status === 'active' ? 'served' : 'maintenance' }))
  return { generation: Number(row.generation), addresses, appliedGeneration: Number(row.applied), failing: row.failing }
}
