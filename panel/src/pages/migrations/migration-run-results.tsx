import type { MigrationRun } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'
import { DataTable } from '../../components/data-table.js'

/** One run's outcome per tenant: status, what it applied (or, dry, would apply), drift, error, time. */
export function MigrationRunResults({ run }: { run: MigrationRun }) {
  const t = run.totals
  return (
    <div class="run-results">
      <p>
        <StatusBadge status={run.status} /> {run.dryRun ? 'Dry run' : 'Run'} of {formatDate(run.createdAt)}: {t.total} tenants, {t.succeeded} succeeded, {t.failed} failed, {t.skipped} skipped
        {t.pending > 0 ? `, ${t.pending} pending` : ''}.
      </p>
      {run.error && (
        <div class="banner banner-error" role="alert">
          <div class="banner-body">
            <p class="banner-message">{run.error}</p>
            <p class="banner-hint">Fix the cause, then run again: applied migrations are not applied twice.</p>
          </div>
        </div>
      )}
      {run.tenants.length > 0 && (
        <DataTable label="Results per tenant" compact columns={['Tenant', 'Result', run.dryRun ? 'Would apply' : 'Applied', 'Drift', { label: 'Time', num: true }]}>
          {run.tenants.map((row) => {
            const files = run.dryRun ? row.pending : row.applied
            return (
              <tr key={row.tenantId} data-tenant={row.slug}>
                <td class="mono">{row.slug}</td>
                <td>
                  <StatusBadge status={row.status} />
                  {row.error && <div class="field-error small details">{row.error}</div>}
                </td>
                <td class="mono small">{files.length ? files.join(', ') : <span class="muted">nothing</span>}</td>
                <td class="mono small">{row.drift.length ? row.drift.join(', ') : '—'}</td>
                <td class="num nowrap">{row.durationMs === null ? '—' : `${row.durationMs} ms`}</td>
              </tr>
            )
          })}
        </DataTable>
      )}
    </div>
  )
}
