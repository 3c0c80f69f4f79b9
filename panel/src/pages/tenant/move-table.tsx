import type { TenantMove } from '../../api/api-types.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'

/** The tenant's moves, newest first: when, between which hosts, how, the freeze, the kept source and until when it allows a rollback. */
export function MoveTable({ items, hostName }: { items: TenantMove[]; hostName(id: string): string }) {
  return (
    <div class="table-wrap" role="region" aria-label="Moves" tabIndex={0}>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Moved</th>
            <th scope="col">From → to</th>
            <th scope="col">Method</th>
            <th scope="col" class="num">
              Freeze
            </th>
            <th scope="col">Kept source</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  )
}
