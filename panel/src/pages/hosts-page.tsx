import type { DatabaseHost, Readiness } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { CapacityBar } from '../components/progress-bar.js'
import { StatusBadge } from '../components/status-badge.js'
import { useApi, useTitle } from '../hooks/use-api.js'

/** The db hosts: address, status (draining), tenants against capacity, and whether tenantd reaches them now. */
export function HostsPage() {
  useTitle('Hosts')
  const hosts = useApi<{ items: DatabaseHost[] }>('/api/admin/hosts')
  // GET /api/ready answers 503 with the same body when something is down; either way it names each host.
  const ready = useApi<Readiness>('/api/ready')
  const reach = new Map((ready.data?.hosts ?? []).map((h) => [h.id, h]))

  return (
    <>
      <PageHeader title="Database hosts" subtitle="PostgreSQL servers that hold tenant databases; placement picks the one with most room." />
      <ErrorBanner error={hosts.error} onRetry={hosts.reload} />
      <ErrorBanner error={ready.error} onRetry={ready.reload} />
      {!hosts.data && hosts.loading && <Loading what="hosts" />}
      {hosts.data && hosts.data.items.length === 0 && <EmptyState title="No database hosts registered." />}
      {hosts.data && hosts.data.items.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Database hosts" tabIndex={0}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Address</th>
                <th scope="col">Status</th>
                <th scope="col">Reachable</th>
                <th scope="col">Tenants / capacity</th>
              </tr>
            </thead>
            <tbody>
              {hosts.data.items.map((host) => {
                const state = reach.get(host.id)
                return (
                  <tr key={host.id}>
                    <td>
                      <span class="strong">{host.name}</span>
                      {host.isDefault && <span class="tag tag-quiet">default</span>}
                    </td>
                    <td class="mono small">
                      {host.host}:{host.port}
                    </td>
                    <td>
                      <StatusBadge status={host.status} />
                    </td>
                    <td>
                      {state ? <StatusBadge status={state.ok ? 'reachable' : 'unreachable'} /> : <span class="muted">—</span>}
                      {state?.error && <div class="field-error small">{state.error}</div>}
                    </td>
                    <td class="capacity-cell">
                      <CapacityBar used={host.tenantCount} capacity={host.maxTenants} label={`${host.name} tenants`} />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}
