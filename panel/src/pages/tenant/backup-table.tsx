import type { Backup } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatBytes, formatDate } from '../../format.js'
import { DataTable, actionsColumn } from '../../components/data-table.js'

interface BackupTableProps {
  items: Backup[]
  /** Super-admins get Verify, Restore and Clone on each backup. */
  canManage: boolean
  /** No action while an operation of this tenant runs (one at a time per tenant). */
  busy: boolean
  /** The backup being verified now, if any. */
  verifying: string | undefined
  onVerify(backup: Backup): void
  onRestore(backup: Backup): void
  onClone(backup: Backup): void
}

/** Backups, newest first: when, state, why, size, when verified, checksum, and what can be done with each. */
export function BackupTable({ items, canManage, busy, verifying, onVerify, onRestore, onClone }: BackupTableProps) {
  return (
    <DataTable label="Backups" columns={['Taken', 'State', 'Reason', { label: 'Size', num: true }, 'Verified', 'SHA-256', canManage && actionsColumn]}>
      {items.map((backup) => {
        const when = formatDate(backup.createdAt)
        const checkable = backup.state === 'verified' || backup.state === 'completed' || backup.state === 'failed'
        const restorable = backup.state === 'verified'
        return (
          <tr key={backup.id} data-backup={backup.id}>
            <td class="nowrap">{when}</td>
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
            {canManage && (
              <td class="actions">
                {checkable && (
                  <button type="button" class="button button-small" disabled={busy || verifying !== undefined} onClick={() => onVerify(backup)} aria-label={`Verify the backup of ${when}`}>
                    {verifying === backup.id ? 'Verifying…' : 'Verify'}
                  </button>
                )}
                {restorable && (
                  <>
                    <button type="button" class="button button-small" disabled={busy} onClick={() => onClone(backup)} aria-label={`Clone the backup of ${when} as a new tenant`}>
                      Clone
                    </button>
                    <button type="button" class="button button-small button-danger-quiet" disabled={busy} onClick={() => onRestore(backup)} aria-label={`Restore the backup of ${when}`}>
                      Restore
                    </button>
                  </>
                )}
              </td>
            )}
          </tr>
        )
      })}
    </DataTable>
  )
}
