import type { MigrationMatrix } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { Link, basePath } from '../../router/router.js'

/** A migration's column heading: "base/0001_base.sql" -> "base 0001_base". */
function columnName(migration: string): string {
  return migration.replace(/\.sql$/, '').replace('/', ' ')
}

/** Tenants × migrations: each cell applied, pending, drift, not installed or error. */
export function MigrationMatrixTable({ matrix }: { matrix: MigrationMatrix }) {
  return (
    <div class="table-wrap" role="region" aria-label="Migration matrix" tabIndex={0}>
      <table class="table table-compact matrix">
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Host</th>
            {matrix.migrations.map((m) => (
              <th scope="col" key={m} class="matrix-col" title={m}>
                {columnName(m)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.tenants.map((tenant) => (
            <tr key={tenant.id} data-tenant={tenant.slug}>
              <th scope="row">
                <Link href={`${basePath}/tenants/${encodeURIComponent(tenant.slug)}`}>{tenant.slug}</Link>
                {tenant.error && <div class="field-error small details">{tenant.error}</div>}
              </th>
              <td class="nowrap">{tenant.hostName}</td>
              {matrix.migrations.map((m) => {
                const state = tenant.cells[m]
                return (
                  <td key={m} class="matrix-cell">
                    {state ? <StatusBadge status={state} /> : <span class="muted">—</span>}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** The counts: tenants up to date, with pending, drift or errors, and cells by state. */
export function MatrixSummary({ matrix }: { matrix: MigrationMatrix }) {
  const s = matrix.summary
  return (
    <>
      <div class="figures">
        <Figure value={s.tenants} label="tenants" />
        <Figure value={s.upToDate} label="up to date" />
        <Figure value={s.withPending} label="with pending" />
        <Figure value={s.withDrift} label="with drift" />
        <Figure value={s.withErrors} label="unreadable" />
      </div>
      {Object.values(s.cells).some((count) => count > 0) && (
        <ul class="legend" aria-label="Cells by state">
          {Object.entries(s.cells).filter(([, count]) => count > 0).map(([state, count]) => (
            <li key={state}>
              <StatusBadge status={state} /> <span class="small">× {count}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

function Figure({ value, label }: { value: number; label: string }) {
  return (
    <div class="figure">
      <span class="figure-value">{value}</span>
      <span class="figure-label">{label}</span>
    </div>
  )
}
