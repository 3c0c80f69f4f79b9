import type { CatalogDb } from '../catalog/catalog-db.js'
import { sqlState, SqlState, TenantExists, TenantNotFound, ValidationError } from '../errors.js'
import { assertSlug } from '../provisioning/tenant-naming.js'
import type { TenantDirectory, TenantRecord } from './tenant-directory.js'

export interface TenantProfileChange {
  subdomain?: string
  name?: string
}

/**
 * Changes a tenant's subdomain (a routing change: the new address answers, the old one stops)
 * or display name. The subdomain follows provisioning's rules and must not be another live
 * tenant's slug or subdomain (409 TenantExists). Returns the tenant before and after, once
 * this replica's directory already routes by the new name.
 *
 * @example
 *   const { after } = await updateTenantProfile({ catalog, tenants }, 'acme', { subdomain: 'acme-shop' })
 */
export async function updateTenantProfile(
  deps: { catalog: CatalogDb; tenants: TenantDirectory },
  key: string,
  change: TenantProfileChange
): Promise<{ before: TenantRecord; after: TenantRecord }> {
  const subdomain = change.subdomain === undefined ? undefined : assertSlug(change.subdomain.trim().toLowerCase(), 'subdomain')
  const name = change.name?.trim()
  if (name !== undefined && (name.length === 0 || name.length > 200)) throw new ValidationError('name must be 1-200 characters')
  if (subdomain === undefined && name === undefined) throw new ValidationError('nothing to change: send subdomain and/or name')
  const before = await deps.tenants.get(key)
  if (subdomain !== undefined && subdomain !== before.subdomain) {
    const clash = await deps.catalog
      .selectFrom('tenants')
      .select('slug')
      .where('purged_at', 'is', null)
      .where('id', '<>', before.id)
      .where((eb) => eb.or([eb('slug', '=', subdomain), eb('subdomain', '=', subdomain)]))
      .executeTakeFirst()
    if (clash) throw new TenantExists(`subdomain "${subdomain}" is taken by another tenant; choose another`)
  }
  try {
    const updated = await deps.catalog
      .updateTable('tenants')
      .set({ ...(subdomain !== undefined ? { subdomain } : {}), ...(name !== undefined ? { name } : {}), updated_at: new Date() })
      .where('id', '=', before.id)
      .where('purged_at', 'is', null)
      .returning('id')
      .executeTakeFirst()
    if (!updated) throw new TenantNotFound(key)
  } catch (error) {
    if (sqlState(error) === SqlState.uniqueViolation) throw new TenantExists(`subdomain "${subdomain}" is taken by another tenant; choose another`, { cause: error })
    throw error
  }
  deps.tenants.invalidate(before.id)
  await deps.tenants.refresh(before.id)
  return { before, after: await deps.tenants.get(before.id) }
}

/** What a profile update changed, as its audit entry's details: `{ subdomain: { from, to }, name: { from, to } }`, only what differs. */
export function profileChanges(before: TenantRecord, after: TenantRecord): Record<string, { from: string; to: string }> {
  const changes: Record<string, { from: string; to: string }> = {}
  if (before.subdomain !== after.subdomain) changes.subdomain = { from: before.subdomain, to: after.subdomain }
  if (before.name !== after.name) changes.name = { from: before.name, to: after.name }
  return changes
}
