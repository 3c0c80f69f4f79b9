import { useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import type { DatabaseHost, HostDrainResult, HostUsage } from '../api/api-types.js'
import { ConfirmDialog } from '../components/confirm-dialog.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { CapacityBar } from '../components/progress-bar.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatBytes } from '../format.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { DrainSummary } from './hosts/drain-summary.js'
import { HostDrainDialog } from './hosts/host-drain-dialog.js'
import { HostRegisterForm } from './hosts/host-register-form.js'
import { DataTable, actionsColumn } from '../components/data-table.js'

type Dialog = { kind: 'drain' | 'remove'; host: DatabaseHost }

/**
 * The db hosts: address, status (draining), tenants against capacity, connections against
 * what the server allows and the size of its tenant data, and whether tenantd reaches them now; register one, drain one (optionally moving its tenants off), remove an
 * empty one.
 */
export function HostsPage() {
  useTitle('Hosts')
  const hosts = useApi<{ items: DatabaseHost[] }>('/api/admin/hosts')
  // One request reaches every host: whether it answers (and why not), its connections, its tenant data.
  const usage = useApi<{ items: HostUsage[] }>('/api/admin/hosts/usage')
  const used = new Map((usage.data?.items ?? []).map((u) => [u.id, u]))
  const [registering, setRegistering] = useState(false)
  const [dialog, setDialog] = useState<Dialog | undefined>(undefined)
  const [drained, setDrained] = useState<HostDrainResult | undefined>(undefined)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const reload = () => {
    hosts.reload()
    usage.reload()
  }

  return (
    <>
      <PageHeader title="Database hosts" subtitle="PostgreSQL servers that hold tenant databases; placement picks the one with most room.">
        {!registering && (
          <button type="button" class="button button-primary" onClick={() => setRegistering(true)}>
            Register host
          </button>
        )}
      </PageHeader>
      {registering && (
        <HostRegisterForm
          onRegistered={(host) => {
            setRegistering(false)
            setNotice(`${host.name} is registered: tenantd logged in with its admin role.`)
            reload()
          }}
          onCancel={() => setRegistering(false)}
        />
      )}
      {notice && <Notice>{notice}</Notice>}
      {drained && <DrainSummary result={drained} onClose={() => setDrained(undefined)} />}
      <ErrorBanner error={hosts.error} onRetry={hosts.reload} />
      <ErrorBanner error={usage.error} onRetry={usage.reload} />
      {!hosts.data && hosts.loading && <Loading what="hosts" />}
      {hosts.data && hosts.data.items.length === 0 && <EmptyState title="No database hosts registered." />}
      {hosts.data && hosts.data.items.length > 0 && (
        <DataTable label="Database hosts" columns={['Host', 'Address', 'Status', 'Reachable', 'Tenants / capacity', 'Connections', actionsColumn]}>
          {hosts.data.items.map((host) => {
            const load = used.get(host.id)
            return (
              <tr key={host.id} data-host={host.name}>
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
                  {load ? <StatusBadge status={load.ok ? 'reachable' : 'unreachable'} /> : <span class="muted">—</span>}
                  {load?.error && <div class="field-error small">{load.error}</div>}
                </td>
                <td class="capacity-cell">
                  <CapacityBar used={host.tenantCount} capacity={host.maxTenants} label={`${host.name} tenants`} />
                  {load?.tenantBytes != null && <div class="muted small">{formatBytes(load.tenantBytes)} of tenant data</div>}
                </td>
                <td class="capacity-cell">
                  {load?.connections ? <CapacityBar used={load.connections.used} capacity={load.connections.max} label={`${host.name} connections`} /> : <span class="muted">—</span>}
                </td>
                <td class="actions">
                  {host.status !== 'removed' && (
                    <button type="button" class="button button-small" onClick={() => setDialog({ kind: 'drain', host })} aria-label={`Drain ${host.name}`}>
                      Drain
                    </button>
                  )}
                  {host.status !== 'removed' && host.tenantCount === 0 && (
                    <button type="button" class="button button-small button-danger-quiet" onClick={() => setDialog({ kind: 'remove', host })} aria-label={`Remove ${host.name}`}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            )
          })}
        </DataTable>
      )}
      {dialog?.kind === 'drain' && (
        <HostDrainDialog
          host={dialog.host}
          onDrained={(result) => {
            setNotice(undefined)
            if ('tenants' in result) setDrained(result)
            else setNotice(`${result.name} is draining: no new tenants are placed on it.`)
            reload()
          }}
          onClose={() => setDialog(undefined)}
        />
      )}
      {dialog?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove ${dialog.host.name}?`}
          confirmLabel="Remove host"
          danger
          typed={dialog.host.name}
          onConfirm={async () => {
            await api.delete(`/api/admin/hosts/${encodeURIComponent(dialog.host.id)}`)
            setNotice(`${dialog.host.name} is removed; its password is erased and its name may be registered again.`)
            reload()
          }}
          onClose={() => setDialog(undefined)}
        >
          <p>It holds no tenant. tenantd forgets how to reach it; the history that names it stays.</p>
        </ConfirmDialog>
      )}
    </>
  )
}
