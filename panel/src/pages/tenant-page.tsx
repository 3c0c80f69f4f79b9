import { useEffect, useState } from 'preact/hooks'
import { tenantPath } from '../api/api-client.js'
import type { Tenant } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatBytes, formatDate } from '../format.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { Link, basePath } from '../router/router.js'
import { TenantActions } from './tenant/tenant-actions.js'
import { TenantAudit } from './tenant/tenant-audit.js'
import { TenantBackups } from './tenant/tenant-backups.js'
import { TenantCredentials } from './tenant/tenant-credentials.js'
import { TenantDomains } from './tenant/tenant-domains.js'
import { TenantModules } from './tenant/tenant-modules.js'
import { TenantMoves } from './tenant/tenant-moves.js'
import { SizeHistoryChart } from './tenant/size-history-chart.js'
import { BrandingCard } from '../components/branding-card.js'

interface TenantStats {
  sizeBytes: number
  activeConnections: number
  connectionLimit: number
  tables: Array<{ name: string; rows: number; exact: boolean }>
  measuredAt: string
}

/**
 * One tenant: details and database figures, lifecycle actions, modules, backups (restore,
 * clone, export), its host and moves, custom domains, credential rotation and its audit
 * trail. Any change made here refreshes the tenant and the audit trail.
 */
export function TenantPage({ id, canManage }: { id: string; canManage: boolean }) {
  const tenant = useApi<Tenant>(tenantPath(id))
  const [version, setVersion] = useState(0)
  useTitle(tenant.data ? tenant.data.name : 'Tenant')
  const changed = () => {
    tenant.reload()
    setVersion((v) => v + 1)
  }

  if (!tenant.data) {
    return (
      <>
        <PageHeader title="Tenant" />
        {tenant.error ? <ErrorBanner error={tenant.error} onRetry={tenant.reload} /> : <Loading what="the tenant" />}
        {canManage && <Link href={`${basePath}/tenants`}>Back to tenants</Link>}
      </>
    )
  }
  const t = tenant.data
  return (
    <>
      {canManage && (
        <nav aria-label="Breadcrumb" class="breadcrumb">
          <Link href={`${basePath}/tenants`}>Tenants</Link> <span aria-hidden="true">/</span> <span aria-current="page">{t.slug}</span>
        </nav>
      )}
      <PageHeader
        title={
          <>
            {t.name} <StatusBadge status={t.status} />
          </>
        }
        subtitle={t.statusReason ? `Reason: ${t.statusReason}` : <span class="mono">{t.subdomain}</span>}
      />
      <ErrorBanner error={tenant.error} onRetry={tenant.reload} />
      {canManage && <TenantActions tenant={t} onChanged={changed} />}
      <div class="grid-cards">
        <section class="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl class="details-list">
            <dt>ID</dt>
            <dd class="mono small">{t.id}</dd>
            <dt>Slug</dt>
            <dd class="mono">{t.slug}</dd>
            <dt>Subdomain</dt>
            <dd class="mono">{t.subdomain}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={t.status} />
            </dd>
            <dt>Plan</dt>
            <dd>{t.plan}</dd>
            <dt>Host</dt>
            <dd>{t.hostName ?? '—'}</dd>
            <dt>Database</dt>
            <dd class="mono">{t.database ?? '—'}</dd>
            <dt>Contact</dt>
            <dd>{t.contactEmail || '—'}</dd>
            <dt>Created</dt>
            <dd>{formatDate(t.createdAt)}</dd>
            {t.canceledAt && (
              <>
                <dt>Canceled</dt>
                <dd>
                  {formatDate(t.canceledAt)} (kept {t.retentionDays} days)
                </dd>
              </>
            )}
          </dl>
        </section>
        <DatabaseFigures tenant={t} version={version} />
      </div>
      <BrandingCard paths={{ branding: tenantPath(t.slug, '/branding'), logo: tenantPath(t.slug, '/logo'), ...(canManage ? { rename: tenantPath(t.slug) } : {}) }} onChanged={changed} />
      <TenantModules tenant={t} canManage={canManage} onChanged={changed} />
      <TenantBackups tenant={t} canManage={canManage} onChanged={changed} />
      <TenantMoves tenant={t} canManage={canManage} onChanged={changed} />
      <TenantDomains tenant={t} onChanged={changed} />
      {canManage && <TenantCredentials tenant={t} onChanged={changed} />}
      <TenantAudit tenant={t} version={version} />
    </>
  )
}

/** Size, connections and the biggest tables (GET /api/admin/tenants/:id/stats). */
function DatabaseFigures({ tenant, version }: { tenant: Tenant; version: number }) {
  const stats = useApi<TenantStats>(tenantPath(tenant.slug, '/stats'))
  useEffect(() => {
    if (version > 0) stats.reload()
  }, [version])
  const tables = [...(stats.data?.tables ?? [])].sort((a, b) => b.rows - a.rows).slice(0, 8)
  return (
    <section class="card" aria-labelledby="database-title">
      <h2 id="database-title">Database</h2>
      <ErrorBanner error={stats.error} onRetry={stats.reload} />
      {!stats.data && !stats.error && <Loading what="database figures" />}
      {stats.data && (
        <>
          <div class="figures">
            <div class="figure">
              <span class="figure-value">{formatBytes(stats.data.sizeBytes)}</span>
              <span class="figure-label">size</span>
            </div>
            <div class="figure">
              <span class="figure-value">
                {stats.data.activeConnections}
                <span class="muted"> / {stats.data.connectionLimit}</span>
              </span>
              <span class="figure-label">connections</span>
            </div>
            <div class="figure">
              <span class="figure-value">{stats.data.tables.length}</span>
              <span class="figure-label">tables</span>
            </div>
          </div>
          <SizeHistoryChart key={version} slug={tenant.slug} />
          {tables.length > 0 && (
            <table class="table table-compact">
              <caption class="visually-hidden">Rows per table</caption>
              <thead>
                <tr>
                  <th scope="col">Table</th>
                  <th scope="col" class="num">
                    Rows
                  </th>
                </tr>
              </thead>
              <tbody>
                {tables.map((table) => (
                  <tr key={table.name}>
                    <td class="mono small">{table.name}</td>
                    <td class="num">
                      {table.exact ? '' : '≈'}
                      {table.rows.toLocaleString()}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  )
}
