import type { TenantMove } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'
import { DataTable } from '../../components/data-table.js'

/** The tenant's moves, newest first: when, between which hosts, how, the freeze, the kept source and until when it allows a rollback. */
export function MoveTable({ items, hostName }: { items: TenantMove[]; hostName(id: string): string }) {
  return (
    <DataTable label="Moves" columns={['Moved', 'From → to', 'Method', { label: 'Freeze', num: true }, 'Kept source', 'State']}>
      {items.map((move) => (
        <tr key={move.id}>
          <td class="nowrap">{formatDate(move.movedAt)}</td>
          <td class="nowrap">
            {hostName(move.sourceHostId)} → {hostName(move.targetHostId)}
          </td>
          <td class="details">
            {move.method}
            {move.methodReason && <div class="muted small">{move.methodReason}</div>}
          </td>
          <td class="num nowrap">{move.freezeMs === null ? '—' : `${move.freezeMs} ms`}</td>
          <td class="mono small">{move.keptDatabase}</td>
          <td>
            <StatusBadge status={move.state} />
            {move.state === 'kept' && <div class="muted small">rollback until {formatDate(move.rollbackUntil)}</div>}
          </td>
        </tr>
      ))}
    </DataTable>
  )
}
