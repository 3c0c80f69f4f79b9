import { useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import { operationState, type Operation, type Page } from '../api/api-types.js'
import { ConfirmDialog } from '../components/confirm-dialog.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading } from '../components/feedback.js'
import { SelectField } from '../components/field.js'
import { PageHeader } from '../components/layout.js'
import { ProgressBar } from '../components/progress-bar.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatDate, humanize } from '../format.js'
import { useApi, useInterval, useTitle } from '../hooks/use-api.js'
import { Link, basePath } from '../router/router.js'
import { DataTable, actionsColumn } from '../components/data-table.js'

const statuses = ['', 'pending', 'running', 'succeeded', 'failed', 'rolled_back']

/**
 * Durable operations, newest first, refreshed every 2 s while any is under way; failed ones can
 * be retried, or rolled back when their kind knows how (the API says so when it does not).
 */
export function OperationsPage() {
  useTitle('Operations')
  const [status, setStatus] = useState('')
  const list = useApi<Page<Operation>>('/api/admin/operations', { status: status || undefined, limit: 50 })
  const [error, setError] = useState<unknown>(undefined)
  const [rollingBack, setRollingBack] = useState<Operation | undefined>(undefined)
  const live = (list.data?.items ?? []).some((op) => op.status === 'pending' || op.status === 'running')
  useInterval(list.reload, 2_000, live)

  const retry = async (op: Operation) => {
    setError(undefined)
    try {
      await api.post(`/api/admin/operations/${encodeURIComponent(op.id)}/retry`)
      list.reload()
    } catch (failure) {
      setError(failure)
    }
  }

  return (
    <>
      <PageHeader title="Operations" subtitle="Provisions, backups, module installs, moves: durable, resumed from their recorded step." />
      <div class="toolbar">
        <SelectField label="Status" name="status" value={status} onValue={setStatus} options={statuses.map((s) => ({ value: s, label: s ? humanize(s) : 'All' }))} />
      </div>
      <ErrorBanner error={error} />
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="operations" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No operations." />}
      {list.data && list.data.items.length > 0 && (
        <DataTable label="Operations" columns={['Started', 'Kind', 'Tenant', 'Step', 'Progress', 'State', actionsColumn]}>
          {list.data.items.map((op) => (
            <tr key={op.id}>
              <td class="nowrap">{formatDate(op.createdAt)}</td>
              <td>{humanize(op.kind)}</td>
              <td>{op.tenantSlug ? <Link href={`${basePath}/tenants/${encodeURIComponent(op.tenantSlug)}`}>{op.tenantSlug}</Link> : <span class="muted">—</span>}</td>
              <td>{humanize(op.step)}</td>
              <td class="progress-cell">
                <ProgressBar value={op.progress} label={`${humanize(op.kind)} ${op.tenantSlug ?? ''} progress`} />
              </td>
              <td>
                <StatusBadge status={operationState(op)} />
                {op.error && <div class="field-error small">{op.error}</div>}
              </td>
              <td class="actions">
                {op.status === 'failed' && (
                  <>
                    <button type="button" class="button button-small" onClick={() => retry(op)} aria-label={`Retry ${humanize(op.kind)} ${op.tenantSlug ?? op.id}`}>
                      Retry
                    </button>
                    <button type="button" class="button button-small button-danger-quiet" onClick={() => setRollingBack(op)} aria-label={`Roll back ${humanize(op.kind)} ${op.tenantSlug ?? op.id}`}>
                      Roll back
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {rollingBack && (
        <ConfirmDialog
          title={`Roll back this ${humanize(rollingBack.kind)}?`}
          confirmLabel="Roll back"
          danger
          onConfirm={async () => {
            await api.post(`/api/admin/operations/${encodeURIComponent(rollingBack.id)}/rollback`)
            list.reload()
          }}
          onClose={() => setRollingBack(undefined)}
        >
          <p>
            What it did is undone (a half-done provision drops its database and role; a failed restore or move leaves the tenant where it was) and it ends as rolled back. It failed at step{' '}
            <strong>{humanize(rollingBack.step)}</strong>
            {rollingBack.tenantSlug ? ` for ${rollingBack.tenantSlug}` : ''}.
          </p>
        </ConfirmDialog>
      )}
      {list.data && (list.data.total ?? 0) > list.data.items.length && <p class="muted small">The newest {list.data.items.length} of {list.data.total}.</p>}
    </>
  )
}
