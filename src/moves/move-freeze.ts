import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { TenantDirectory } from '../tenancy/tenant-directory.js'

/** The freeze reason a move's cutover sets (see frozenBecause in tenant-resolver.ts). */
export const moveFreezeReason = 'move'

/**
 * Upper bounds of a move's freeze. A logical-decoding cutover takes a second or two; one that
 * dies mid-way must not leave its tenant answering 503 for longer than this (past it every
 * replica ignores the freeze; the source role's NOLOGIN then answers until the operation is
 * resumed or rolled back, which the operation sweeper does within its stale time). A frozen
 * copy moves the whole database under the freeze, so it gets longer.
 */
const boundSeconds = { short: 60, long: 30 * 60 } as const

/**
 * Freezes a tenant for a move's cutover: every replica answers its traffic 503 with
 * Retry-After (the row update's NOTIFY reloads each replica's record and evicts its pool).
 * Set again by every attempt, so a resumed cutover has a fresh bound.
 */
export async function freezeForMove(deps: { catalog: CatalogDb; tenants: TenantDirectory }, tenantId: string, bound: keyof typeof boundSeconds): Promise<void> {
  await deps.catalog
    .updateTable('tenants')
    .set({ frozen_until: sql<Date>`now() + make_interval(secs => ${boundSeconds[bound]})`, frozen_reason: moveFreezeReason, updated_at: new Date() })
    .where('id', '=', tenantId)
    .execute()
  await deps.tenants.refresh(tenantId)
  deps.tenants.invalidate(tenantId)
}

/** Ends a move's freeze (another reason's freeze stays) and touches the row, so every replica reloads the tenant. */
export async function unfreezeAfterMove(deps: { catalog: CatalogDb; tenants: TenantDirectory }, tenantId: string): Promise<void> {
  await deps.catalog
    .updateTable('tenants')
    .set({
      frozen_until: sql<Date | null>`case when frozen_reason = ${moveFreezeReason} then null else frozen_until end`,
      frozen_reason: sql<string | null>`case when frozen_reason = ${moveFreezeReason} then null else frozen_reason end`,
      updated_at: new Date(),
    })
    .where('id', '=', tenantId)
    .execute()
  await deps.tenants.refresh(tenantId)
  deps.tenants.invalidate(tenantId)
}
