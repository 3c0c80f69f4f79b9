import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { InstalledModule, Module, Operation, OperationStarted, Tenant } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading } from '../../components/feedback.js'
import { OperationProgress } from '../../components/operation-progress.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'
import { DataTable, actionsColumn } from '../../components/data-table.js'

/**
 * The Technical Panel's "Gerenciar Módulos" (runbook 003): every module tenantd ships, whether
 * this tenant has it, and install, repair (install again: missing tables come back, data
 * stays) and uninstall, each followed live.
 */
export function TenantModules({ tenant, canManage, onChanged }: { tenant: Tenant; canManage: boolean; onChanged(): void }) {
  const catalog = useApi<{ items: Module[] }>('/api/admin/modules')
  const installed = useApi<{ items: InstalledModule[] }>(tenantPath(tenant.slug, '/modules'))
  const [operation, setOperation] = useState<string | undefined>(undefined)
  const [uninstalling, setUninstalling] = useState<string | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const modulePath = (name: string) => tenantPath(tenant.slug, `/modules/${encodeURIComponent(name)}`)

  const install = async (name: string) => {
    setError(undefined)
    try {
      setOperation((await api.post<OperationStarted>(modulePath(name))).operationId)
    } catch (failure) {
      setError(failure)
    }
  }
  /** A finished install or uninstall: the list and the page catch up; a failed one stays shown with its Retry. */
  const finished = (done: Operation) => {
    installed.reload()
    onChanged()
    if (done.status === 'succeeded') setOperation(undefined)
  }
  const reloadAll = () => {
    catalog.reload()
    installed.reload()
  }

  const byName = new Map((installed.data?.items ?? []).map((m) => [m.name, m]))
  const busy = operation !== undefined
  return (
    <section class="card" aria-labelledby="modules-title">
      <h2 id="modules-title">Modules</h2>
      <ErrorBanner error={catalog.error ?? installed.error} onRetry={reloadAll} />
      <ErrorBanner error={error} />
      {(!catalog.data || !installed.data) && !(catalog.error ?? installed.error) && <Loading what="modules" />}
      {catalog.data && catalog.data.items.length === 0 && <EmptyState title="This tenantd ships no modules." />}
      {catalog.data && installed.data && catalog.data.items.length > 0 && (
        <DataTable label="Modules" columns={['Module', 'State', 'Version', 'Installed', canManage && actionsColumn]}>
          {catalog.data.items.map((module) => {
            const mine = byName.get(module.name)
            return (
              <tr key={module.name} data-module={module.name}>
                <td class="cell-wide">
                  <span class="strong">{module.name}</span>
                  <div class="muted small">{module.description}</div>
                </td>
                <td class="nowrap">{mine ? <StatusBadge status="installed" /> : <span class="muted">Not installed</span>}</td>
                <td class="mono small">{mine?.version ?? module.version}</td>
                <td class="nowrap">{mine ? formatDate(mine.installedAt) : '—'}</td>
                {canManage && (
                  <td class="actions">
                    {mine ? (
                      <>
                        <button type="button" class="button button-small" disabled={busy} onClick={() => install(module.name)} aria-label={`Repair ${module.name}`}>
                          Repair
                        </button>
                        <button type="button" class="button button-small button-danger-quiet" disabled={busy} onClick={() => setUninstalling(module.name)} aria-label={`Uninstall ${module.name}`}>
                          Uninstall
                        </button>
                      </>
                    ) : (
                      <button type="button" class="button button-small button-primary" disabled={busy} onClick={() => install(module.name)} aria-label={`Install ${module.name}`}>
                        Install
                      </button>
                    )}
                  </td>
                )}
              </tr>
            )
          })}
        </DataTable>
      )}
      {operation && (
        <div class="card-inset">
          <OperationProgress key={operation} operationId={operation} onFinished={finished} />
        </div>
      )}
      {uninstalling && (
        <ConfirmDialog
          title={`Uninstall ${uninstalling}?`}
          confirmLabel="Uninstall"
          danger
          onConfirm={async () => {
            setOperation((await api.delete<OperationStarted>(modulePath(uninstalling))).operationId)
          }}
          onClose={() => setUninstalling(undefined)}
        >
          <p>
            Its routes stop answering for {tenant.name}. Its tables and data stay in the database; installing it again brings it back.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}
