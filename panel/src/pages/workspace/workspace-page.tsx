import { useState } from 'preact/hooks'
import type { CurrentTenant, SessionUser } from '../../api/api-types.js'
import { BrandingCard } from '../../components/branding-card.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { Loading } from '../../components/feedback.js'
import { PageHeader } from '../../components/layout.js'
import { StatusBadge } from '../../components/status-badge.js'
import { humanize, roleLabel } from '../../format.js'
import { useApi, useTitle } from '../../hooks/use-api.js'
import { TenantExportButton } from '../tenant/tenant-export-button.js'

/**
 * A tenant user's start page on the tenant's own address: the tenant's public details
 * (GET /api/tenants/current, with the session's token: the address and the token must name
 * the same tenant), who is signed in, and for the tenant's admins "Export data"
 * (GET /api/tenants/export, which accepts an admin user for their own tenant) and the
 * tenant's branding (name and logo, /api/tenants/current).
 * `known` is what the panel learned before sign-in, shown until the fresh answer arrives.
 */
export function WorkspacePage({ user, known }: { user: SessionUser; known: CurrentTenant }) {
  const current = useApi<CurrentTenant>('/api/tenants/current')
  const tenant = current.data ?? known
  const [exportError, setExportError] = useState<unknown>(undefined)
  useTitle(tenant.name)
  const admin = user.role === 'admin'

  return (
    <>
      <PageHeader
        title={
          <>
            {tenant.name} <StatusBadge status={tenant.status} />
          </>
        }
        subtitle={<span class="mono">{window.location.host}</span>}
      />
      <ErrorBanner error={current.error} onRetry={current.reload} />
      {!current.data && current.loading && <Loading what="the workspace" />}
      <div class="grid-cards">
        <section class="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl class="details-list">
            <dt>Name</dt>
            <dd>{tenant.name}</dd>
            <dt>Slug</dt>
            <dd class="mono">{tenant.slug}</dd>
            <dt>Subdomain</dt>
            <dd class="mono">{tenant.subdomain}</dd>
            <dt>Plan</dt>
            <dd>{humanize(tenant.plan)}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={tenant.status} />
            </dd>
            <dt>ID</dt>
            <dd class="mono small">{tenant.id}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">Your account</h2>
          <dl class="details-list">
            <dt>Email</dt>
            <dd>{user.email}</dd>
            <dt>Name</dt>
            <dd>{user.name || '—'}</dd>
            <dt>Role</dt>
            <dd>{roleLabel(user.role)}</dd>
          </dl>
        </section>
      </div>
      {admin && <BrandingCard paths={{ branding: '/api/tenants/current/branding', logo: '/api/tenants/current/logo', rename: '/api/tenants/current' }} onChanged={current.reload} />}
      {admin && (
        <section class="card" aria-labelledby="export-title">
          <div class="card-header">
            <h2 id="export-title">Your data</h2>
            <div class="page-actions">
              <TenantExportButton tenant={tenant} onError={setExportError} />
            </div>
          </div>
          <p class="muted">
            Export data downloads everything of {tenant.name} as one JSON document: its record (without credentials), modules, migrations and every
            table's rows.
          </p>
          <ErrorBanner error={exportError} />
        </section>
      )}
    </>
  )
}
