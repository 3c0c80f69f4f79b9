import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { DatabaseHost, HostDrainResult } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { DrainProgress } from './drain-progress.js'

/**
 * Drain a host (POST /api/admin/hosts/:id/drain): no new tenants on it; optionally move every
 * active or suspended tenant off it, `concurrency` at once. With moves the API answers when
 * every move ended, so the dialog stays busy until then and shows the moves as they run.
 */
export function HostDrainDialog({ host, onDrained, onClose }: { host: DatabaseHost; onDrained(result: HostDrainResult | DatabaseHost): void; onClose(): void }) {
  const [moveTenants, setMoveTenants] = useState(false)
  const [concurrency, setConcurrency] = useState('2')
  const [startedAt, setStartedAt] = useState<number | undefined>(undefined)
  const valid = !moveTenants || (Number.isInteger(Number(concurrency)) && Number(concurrency) >= 1 && Number(concurrency) <= 16)
  return (
    <ConfirmDialog
      title={`Drain ${host.name}?`}
      confirmLabel={moveTenants ? 'Drain and move tenants' : 'Drain'}
      onConfirm={async () => {
        if (!valid) throw new Error('Concurrency is a whole number from 1 to 16.')
        setStartedAt(Date.now())
        onDrained(await api.post<HostDrainResult | DatabaseHost>(`/api/admin/hosts/${encodeURIComponent(host.id)}/drain`, moveTenants ? { moveTenants: true, concurrency: Number(concurrency) } : {}))
      }}
      onClose={onClose}
    >
      <p>New tenants are no longer placed on {host.name}. The {host.tenantCount} it holds stay unless you move them.</p>
      <label class="check">
        <input type="checkbox" name="move-tenants" checked={moveTenants} onChange={(event) => setMoveTenants(event.currentTarget.checked)} />
        <span>Move its tenants off: each active or suspended tenant moves to the host with most room (a short freeze each). The dialog follows each move until all ended.</span>
      </label>
      {moveTenants && startedAt !== undefined && <DrainProgress host={host} since={startedAt} />}
      {moveTenants && startedAt === undefined && (
        <div class="field">
          <label for="drain-concurrency">Moves at once</label>
          <input id="drain-concurrency" name="concurrency" inputMode="numeric" value={concurrency} aria-invalid={valid ? undefined : 'true'} onInput={(event) => setConcurrency(event.currentTarget.value)} />
        </div>
      )}
    </ConfirmDialog>
  )
}
