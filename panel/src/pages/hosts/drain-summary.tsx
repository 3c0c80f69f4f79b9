import type { HostDrainResult } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { DataTable } from '../../components/data-table.js'

/** What a drain with moves did, tenant by tenant (as `tenantctl hosts drain --move` prints it). */
export function DrainSummary({ result, onClose }: { result: HostDrainResult; onClose(): void }) {
  const left = result.host.tenantCount
  return (
    <section class="card" aria-labelledby="drain-title">
      <div class="card-header">
        <h2 id="drain-title">Drain of {result.host.name}</h2>
        <button type="button" class="button button-small" onClick={onClose}>
          Close
        </button>
      </div>
      <p>
        {result.moved} moved, {result.failed} failed, {result.skipped} skipped; {left} {left === 1 ? 'tenant' : 'tenants'} left on it.
        {result.failed > 0 && ' Draining again moves what is left.'}
      </p>
      {result.tenants.length > 0 && (
        <DataTable label={`Drain of ${result.host.name}`} compact columns={['Tenant', 'Result', 'To', 'Error']}>
          {result.tenants.map((row) => (
            <tr key={row.tenant}>
              <td class="mono">{row.tenant}</td>
              <td>
                <StatusBadge status={row.status} />
              </td>
              <td>{row.to ?? '—'}</td>
              <td class="small details">{row.error ?? '—'}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  )
}
