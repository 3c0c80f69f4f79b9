import type { TenantDomain } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'
import { DataTable, actionsColumn } from '../../components/data-table.js'

interface DomainTableProps {
  items: TenantDomain[]
  /** The domain being verified now, if any. */
  verifying: string | undefined
  onVerify(domain: TenantDomain): void
  onRemove(domain: TenantDomain): void
}

/** Custom domains: status, the last check and what it saw, and for a pending one what tenantd will fetch. */
export function DomainTable({ items, verifying, onVerify, onRemove }: DomainTableProps) {
  return (
    <DataTable label="Custom domains" columns={['Domain', 'Status', 'Last check', 'Verification', actionsColumn]}>
      {items.map((d) => (
        <tr key={d.domain} data-domain={d.domain}>
          <td class="mono">{d.domain}</td>
          <td>
            <StatusBadge status={d.status} />
          </td>
          <td class="nowrap">
            {formatDate(d.lastCheckedAt)}
            {d.lastError && <div class="field-error small details">{d.lastError}</div>}
          </td>
          <td class="small details">
            {d.status === 'verified' ? (
              <span class="muted">Verified {formatDate(d.verifiedAt)}</span>
            ) : (
              <>
                tenantd will GET <span class="mono">{d.verification.url}</span> and expects <span class="mono">{d.verification.expectedBody}</span>
              </>
            )}
          </td>
          <td class="actions">
            <button type="button" class="button button-small" disabled={verifying !== undefined} onClick={() => onVerify(d)} aria-label={`Verify ${d.domain}`}>
              {verifying === d.domain ? 'Checking…' : 'Verify'}
            </button>
            <button type="button" class="button button-small button-danger-quiet" onClick={() => onRemove(d)} aria-label={`Remove ${d.domain}`}>
              Remove
            </button>
          </td>
        </tr>
      ))}
    </DataTable>
  )
}
