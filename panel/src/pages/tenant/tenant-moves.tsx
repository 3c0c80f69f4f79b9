import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { DatabaseHost, Operation, OperationStarted, Tenant, TenantMove } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../../components/feedback.js'
import { SelectField } from '../../components/field.js'
import { OperationProgress } from '../../components/operation-progress.js'
import { formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'
import { Link, basePath } from '../../router/router.js'
import { MoveTable } from './move-table.js'

type Running = { kind: 'move' | 'rollback'; operationId: string }

/**
 * Runbook 003's "move to a dedicated server": move the tenant's database to another active
 * host (POST .../move) and follow the steps live, roll the last move back while its source is
 * kept (POST .../move/rollback), and the tenant's moves (GET .../moves).
 */
export function TenantMoves({ tenant, canManage, onChanged }: { tenant: Tenant; canManage: boolean; onChanged(): void }) {
  const moves = useApi<{ items: TenantMove[] }>(tenantPath(tenant.slug, '/moves'))
  const hosts = useApi<{ items: DatabaseHost[] }>(canManage ? '/api/admin/hosts' : null)
  const [running, setRunning] = useState<Running | undefined>(undefined)
  const [outcome, setOutcome] = useState<Operation | undefined>(undefined)
  const [dialog, setDialog] = useState<'move' | 'rollback' | undefined>(undefined)
  const [target, setTarget] = useState('')
  const busy = running !== undefined && outcome === undefined

  const names = new Map((hosts.data?.items ?? []).map((h) => [h.id, h.name]))
  const hostName = (id: string) => names.get(id) ?? (id === tenant.hostId ? (tenant.hostName ?? id) : id.slice(0, 8))
  const targets = (hosts.data?.items ?? []).filter((h) => h.status === 'active' && h.id !== tenant.hostId)
  const latest = moves.data?.items[0]
  const rollbackOpen = latest !== undefined && latest.state === 'kept' && new Date(latest.rollbackUntil).getTime() > Date.now() && latest.targetHostId === tenant.hostId
  const movable = tenant.status === 'active' || tenant.status === 'suspended'

  const start = (kind: Running['kind']) => async () => {
    const path = kind === 'move' ? '/move' : '/move/rollback'
    const started = await api.post<OperationStarted>(tenantPath(tenant.slug, path), kind === 'move' ? { targetHostId: target || targets[0]!.id } : {})
    setRunning({ kind, operationId: started.operationId })
    setOutcome(undefined)
  }
  const finished = (operation: Operation) => {
    setOutcome(operation)
    moves.reload()
    hosts.reload()
    onChanged()
  }

  return (
    <section class="card" aria-labelledby="moves-title">
      <div class="card-header">
        <h2 id="moves-title">Host and moves</h2>
        {canManage && (
          <div class="page-actions">
            {rollbackOpen && (
              <button type="button" class="button button-small" onClick={() => setDialog('rollback')} disabled={busy}>
                Roll back last move
              </button>
            )}
            <button type="button" class="button button-primary button-small" onClick={() => setDialog('move')} disabled={busy || !movable || targets.length === 0}>
              Move to another host
            </button>
          </div>
        )}
      </div>
      <p class="muted">
        On <span class="strong">{tenant.hostName ?? '—'}</span>, database <span class="mono">{tenant.database ?? '—'}</span>.
        {canManage && hosts.data && targets.length === 0 && (
          <>
            {' '}
            No other active host to move to: <Link href={`${basePath}/hosts`}>register one</Link>.
          </>
        )}
      </p>
      <ErrorBanner error={moves.error} onRetry={moves.reload} />
      <ErrorBanner error={hosts.error} onRetry={hosts.reload} />
      {running && (
        <div class="card-inset">
          <OperationProgress key={running.operationId} operationId={running.operationId} onFinished={finished} />
          {outcome?.status === 'succeeded' && latest?.operationId === running.operationId && <MoveOutcome move={latest} hostName={hostName} rolledBack={running.kind === 'rollback'} />}
        </div>
      )}
      {!moves.data && moves.loading && <Loading what="moves" />}
      {moves.data && moves.data.items.length === 0 && <EmptyState title="Never moved.">The tenant is still on the host it was placed on.</EmptyState>}
      {moves.data && moves.data.items.length > 0 && <MoveTable items={moves.data.items} hostName={hostName} />}

      {dialog === 'move' && (
        <ConfirmDialog title={`Move ${tenant.name} to another host?`} confirmLabel="Move" onConfirm={start('move')} onClose={() => setDialog(undefined)}>
          <p>
            The database is copied while the tenant keeps serving, then writes are frozen (503 with Retry-After, typically under a second) while the last changes move and every table is compared. The
            source on {tenant.hostName} is kept, closed, for rollback.
          </p>
          <SelectField label="Target host" name="move-target" value={target || targets[0]?.id || ''} onValue={setTarget} options={targets.map((h) => ({ value: h.id, label: `${h.name} (${h.tenantCount}${h.maxTenants ? ` / ${h.maxTenants}` : ''} tenants)` }))} />
        </ConfirmDialog>
      )}
      {dialog === 'rollback' && latest && (
        <ConfirmDialog title={`Roll back the move of ${tenant.name}?`} confirmLabel="Roll back" onConfirm={start('rollback')} onClose={() => setDialog(undefined)}>
          <p>
            {tenant.name} moves back to {hostName(latest.sourceHostId)} the same way (a short freeze), with every write made on {hostName(latest.targetHostId)} since; the stale kept copy is dropped.
            Possible until {formatDate(latest.rollbackUntil)}.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}

/** "Now on db2 by logical (writes frozen 420 ms); the source is kept as … until …", as tenantctl says it. */
function MoveOutcome({ move, hostName, rolledBack }: { move: TenantMove; hostName(id: string): string; rolledBack: boolean }) {
  return (
    <Notice>
      <p>
        {rolledBack ? 'Rolled back: ' : ''}now on <span class="strong">{hostName(move.targetHostId)}</span> by {move.method}
        {move.freezeMs !== null && ` (writes frozen ${move.freezeMs} ms)`}; the source is kept as <span class="mono">{move.keptDatabase}</span> until {formatDate(move.rollbackUntil)}.
      </p>
    </Notice>
  )
}
