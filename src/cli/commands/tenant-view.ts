import type { Tenant, TenantListItem } from '../api-types.js'
import type { Output } from '../output.js'
import { formatBytes, formatTime, type Column } from '../table-format.js'

/**
 * The admin API path of a tenant, by id or slug.
 *
 * @example
 *   tenantPath('acme', '/suspend') // "/api/admin/tenants/acme/suspend"
 */
export function tenantPath(idOrSlug: string, action = ''): string {
  return `/api/admin/tenants/${encodeURIComponent(idOrSlug)}${action}`
}

/** The columns of `tenantctl list`. */
export const tenantColumns: Column<TenantListItem>[] = [
  { header: 'SLUG', value: (t) => t.slug },
  { header: 'NAME', value: (t) => t.name },
  { header: 'STATUS', value: (t) => t.status },
  { header: 'PLAN', value: (t) => t.plan },
  { header: 'HOST', value: (t) => t.hostName ?? t.hostId },
  { header: 'MODULES', value: (t) => (t.modules ?? []).join(', ') || '-' },
  { header: 'SIZE', value: (t) => (t.sizeBytes === null || t.sizeBytes === undefined ? '-' : formatBytes(t.sizeBytes)) },
  { header: 'LAST BACKUP', value: (t) => (t.lastBackup ? `${formatTime(t.lastBackup.at).slice(0, 16)} ${t.lastBackup.state}` : 'never') },
  { header: 'CREATED', value: (t) => formatTime(t.createdAt).slice(0, 10) },
]

/** One tenant as `key: value` lines (`tenantctl show`). */
export function printTenant(out: Output, tenant: Tenant): void {
  out.keyValues([
    ['ID', tenant.id],
    ['Slug', tenant.slug],
    ['Name', tenant.name],
    ['Subdomain', tenant.subdomain],
    ['Status', tenant.statusReason ? `${tenant.status} (${tenant.statusReason})` : tenant.status],
    ['Plan', tenant.plan],
    ['Contact', tenant.contactEmail],
    ['Host', tenant.hostName ? `${tenant.hostName} (${tenant.hostId})` : tenant.hostId],
    ['Database', tenant.database],
    ['Retention', tenant.retentionDays == null ? null : `${tenant.retentionDays} days`],
    ['Created', formatTime(tenant.createdAt)],
    ['Updated', formatTime(tenant.updatedAt)],
    ['Canceled', tenant.canceledAt ? formatTime(tenant.canceledAt) : null],
    ['Deleted', tenant.deletedAt ? formatTime(tenant.deletedAt) : null],
  ])
}
