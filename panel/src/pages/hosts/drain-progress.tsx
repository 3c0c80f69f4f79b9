import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { DatabaseHost, Operation, Page } from '../../api/api-types.js'
import { ProgressBar } from '../../components/progress-bar.js'
import { StatusBadge } from '../../components/status-badge.js'
import { humanize } from '../../format.js'
import { useInterval } from '../../hooks/use-api.js'

/**
 * A drain's moves while they run (the drain route answers once every move ended): how many of
 * the host's tenants are off it, and each move started since the drain began with its step and
 * progress, read every second from GET /api/admin/hosts/:id and GET /api/admin/operations?kind=move.
 */
export function DrainProgress({ host, since }: { host: DatabaseHost; since: number }) {
  const [left, setLeft] = useState(host.tenantCount)
  const [moves, setMoves] = useState<Operation[]>([])
  useInterval(() => {
    api.get<DatabaseHost>(`/api/admin/hosts/${encodeURIComponent(host.id)}`).then((latest) => setLeft(latest.tenantCount), () => {})
    api.get<Page<Operation>>('/api/admin/operations', { kind: 'move', limit: 50 }).then(
      // Moves created since the drain began, with a minute's slack for this browser's clock against tenantd's.
      (page) => setMoves(page.items.filter((op) => new Date(op.createdAt).getTime() >= since - 60_000)),
      () => {}
    )
  }, 1_000)
  const total = Math.max(host.tenantCount, 1)
  const moved = Math.max(0, host.tenantCount - left)
  return (
    <div class="card-inset" aria-live="polite">
      <p>
        <strong>
          {moved} of {host.tenantCount}
        </strong>{' '}
        tenants moved off {host.name} so far.
      </p>
      <ProgressBar value={Math.round((moved / total) * 100)} label={`Tenants moved off ${host.name}`} />
      {moves.length > 0 && (
        <ul class="plain-list small">
          {moves.map((op) => (
            <li key={op.id}>
              <span class="mono">{op.tenantSlug ?? op.tenantId}</span> <StatusBadge status={op.status} /> {op.step ? humanize(op.step) : ''} {op.status === 'running' && `${op.progress}%`}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
