import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { Backup, Page, Tenant } from '../../api/api-types.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading } from '../../components/feedback.js'
import { OperationProgress } from '../../components/operation-progress.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatBytes, formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'

/** Backups of the tenant database, newest first, and "Back up now" followed live. */
export function TenantBackups({ tenant, canManage, onChanged }: { tenant: Tenant; canManage: boolean; onChanged(): void }) {
  const list = useApi<Page<Backup>>(tenantPath(tenant.slug, '/backups'), { limit: 20 })
  const [operation, setOperation] = useState<string | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)

  const backUp = async () => {
    setError(undefined)
    try {
      const started = await api.post<{ operationId: string }>(tenantPath(tenant.slug, '/backups'))
      setOperation(started.operationId)
      list.reload()
    } catch (failure) {
      setError(failure)
    }
  }

  return (
    <section class="card" aria-labelledby="backups-title">
      <div class="card-header">
        <h2 id="backups-title">Backups</h2>
        {canManage && (
          <button type="button" class="button button-primary button-small" onClick={backUp} disabled={operation !== undefined}>
            Back up now
          </button>
        )}
      </div>
      <ErrorBanner error={error} />
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {operation && (
        <div class="card-inset">
          <OperationProgress
            key={operation}
            operationId={operation}
            onFinished={(op) => {
              list.reload()
              onChanged()
              if (op.status === 'succeeded') setOperation(undefined)
            }}
          />
        </div>
      )}
      {!list.data && list.loading && <Loading what="backups" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No backups yet.">Scheduled backups run by plan; "Back up now" takes one at once.</EmptyState>}
      {list.data && list.data.items.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Backups" tabIndex={0}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Taken</th>
                <th scope="col">State</th>
                <th scope="col">Reason</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Verified</th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((backup) => (
                <tr key={backup.id}>
                  <td class="nowrap">{formatDate(backup.createdAt)}</td>
                  <td>
                    <StatusBadge status={backup.state} />
                    {backup.error && <div class="field-error small">{backup.error}</div>}
                  </td>
                  <td>{backup.reason}</td>
                  <td class="num nowrap">{formatBytes(backup.sizeBytes)}</td>
                  <td class="nowrap">{formatDate(backup.verifiedAt)}</td>
                  <td class="mono small" title={backup.sha256 ?? undefined}>
                    {backup.sha256 ? `${backup.sha256.slice(0, 12)}…` : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
