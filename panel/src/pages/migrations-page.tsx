import { useState } from 'preact/hooks'
import type { MigrationMatrix, MigrationRun, MigrationRunStarted, MigrationRunSummary, Page } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { OperationProgress } from '../components/operation-progress.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatDate } from '../format.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { MatrixSummary, MigrationMatrixTable } from './migrations/migration-matrix.js'
import { MigrationRunForm } from './migrations/migration-run-form.js'
import { MigrationRunResults } from './migrations/migration-run-results.js'
import { DataTable, actionsColumn } from '../components/data-table.js'

/**
 * Tenant migrations across the fleet: the tenants × migrations matrix (GET
 * /api/admin/migrations/status), a run (dry run first, canary, concurrency) followed live, its
 * per-tenant results, and the recent runs.
 */
export function MigrationsPage() {
  useTitle('Migrations')
  const matrix = useApi<MigrationMatrix>('/api/admin/migrations/status')
  const runs = useApi<Page<MigrationRunSummary>>('/api/admin/migrations/runs', { limit: 10 })
  const [following, setFollowing] = useState<MigrationRunStarted | undefined>(undefined)
  const [running, setRunning] = useState(false)
  const [shown, setShown] = useState<string | undefined>(undefined)
  const result = useApi<MigrationRun>(shown && !running ? `/api/admin/migrations/runs/${encodeURIComponent(shown)}` : null)

  const started = (run: MigrationRunStarted) => {
    setFollowing(run)
    setRunning(true)
    setShown(run.runId)
  }
  const finished = () => {
    setRunning(false)
    matrix.reload()
    runs.reload()
  }
  const show = (id: string) => {
    setFollowing(undefined)
    setRunning(false)
    setShown(id)
  }

  return (
    <>
      <PageHeader title="Migrations" subtitle="Every tenant database against the migrations this tenantd ships: base first, then each module's." />
      <section class="card" aria-labelledby="matrix-title">
        <div class="card-header">
          <h2 id="matrix-title">Status</h2>
          <button type="button" class="button button-small" onClick={matrix.reload} disabled={matrix.loading}>
            {matrix.loading && matrix.data ? 'Checking…' : 'Check again'}
          </button>
        </div>
        <ErrorBanner error={matrix.error} onRetry={matrix.reload} />
        {!matrix.data && matrix.loading && <Loading what="the migration status of every tenant" />}
        {matrix.data && <MatrixSummary matrix={matrix.data} />}
        {matrix.data && matrix.data.tenants.length === 0 && <EmptyState title="No active or suspended tenants." />}
        {matrix.data && matrix.data.tenants.length > 0 && <MigrationMatrixTable matrix={matrix.data} />}
      </section>

      <section class="card" aria-labelledby="run-title">
        <h2 id="run-title">Run</h2>
        <MigrationRunForm disabled={running} onStarted={started} />
        {following && (
          <div class="card-inset">
            <OperationProgress key={following.operationId} operationId={following.operationId} onFinished={finished} />
          </div>
        )}
        <ErrorBanner error={result.error} onRetry={result.reload} />
        {shown && !running && !result.data && result.loading && <Loading what="the run's results" />}
        {result.data && result.data.id === shown && <MigrationRunResults run={result.data} />}
      </section>

      <section class="card" aria-labelledby="runs-title">
        <h2 id="runs-title">Recent runs</h2>
        <ErrorBanner error={runs.error} onRetry={runs.reload} />
        {!runs.data && runs.loading && <Loading what="runs" />}
        {runs.data && runs.data.items.length === 0 && <EmptyState title="No runs yet." />}
        {runs.data && runs.data.items.length > 0 && (
          <DataTable label="Recent runs" compact columns={['Started', 'Kind', 'State', 'Tenants', actionsColumn]}>
            {runs.data.items.map((run) => (
              <tr key={run.id}>
                <td class="nowrap">{formatDate(run.createdAt)}</td>
                <td>{run.dryRun ? 'dry run' : 'run'}{run.options.canary > 0 ? `, canary ${run.options.canary}` : ''}</td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td class="nowrap">
                  {run.totals.succeeded} of {run.totals.total} succeeded{run.totals.failed ? `, ${run.totals.failed} failed` : ''}
                </td>
                <td class="actions">
                  <button type="button" class="button button-small" onClick={() => show(run.id)} aria-label={`Show the results of the run of ${formatDate(run.createdAt)}`} aria-pressed={shown === run.id}>
                    Results
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  )
}
