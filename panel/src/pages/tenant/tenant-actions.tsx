import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { Tenant } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { OperationProgress } from '../../components/operation-progress.js'

type Dialog = 'suspend' | 'cancel' | 'delete' | undefined

interface TestResult {
  ok: boolean
  latencyMs: number
  database: string
  host: string
  message?: string
}

/**
 * Lifecycle of one tenant (runbook 002): suspend, reactivate, cancel and delete (the last two
 * only after typing the tenant's slug), and test connection (runbook 003).
 */
export function TenantActions({ tenant, onChanged }: { tenant: Tenant; onChanged(): void }) {
  const [dialog, setDialog] = useState<Dialog>(undefined)
  const [reason, setReason] = useState('')
  const [hard, setHard] = useState(false)
  const [force, setForce] = useState(false)
  const [deleteOperation, setDeleteOperation] = useState<string | undefined>(undefined)
  const [test, setTest] = useState<TestResult | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [busy, setBusy] = useState(false)
  const path = (action: string) => tenantPath(tenant.slug, action)

  const run = async (work: () => Promise<unknown>) => {
    setBusy(true)
    setError(undefined)
    try {
      await work()
      onChanged()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  const testConnection = () =>
    run(async () => {
      setTest(undefined)
      setTest(await api.post<TestResult>(path('/test-connection')))
    })

  const canSuspend = tenant.status === 'active'
  const canReactivate = tenant.status === 'suspended' || tenant.status === 'canceled' || tenant.status === 'deleted'
  const canCancel = tenant.status === 'active' || tenant.status === 'suspended'
  const canDelete = tenant.status !== 'provisioning'

  return (
    <>
      <div class="button-row">
        <button type="button" class="button" onClick={testConnection} disabled={busy}>
          Test connection
        </button>
        {canSuspend && (
          <button type="button" class="button" onClick={() => setDialog('suspend')} disabled={busy}>
            Suspend
          </button>
        )}
        {canReactivate && (
          <button type="button" class="button" onClick={() => run(() => api.post(path('/reactivate')))} disabled={busy}>
            Reactivate
          </button>
        )}
        {canCancel && (
          <button type="button" class="button button-danger-quiet" onClick={() => setDialog('cancel')} disabled={busy}>
            Cancel tenant
          </button>
        )}
        {canDelete && (
          <button type="button" class="button button-danger-quiet" onClick={() => setDialog('delete')} disabled={busy}>
            Delete
          </button>
        )}
      </div>
      <ErrorBanner error={error} />
      {test && (
        <div class={`banner ${test.ok ? 'banner-ok' : 'banner-error'}`} role="status">
          <div class="banner-body">
            {test.ok ? (
              <p>
                Connected to <span class="mono">{test.database}</span> on {test.host} in {test.latencyMs} ms.
              </p>
            ) : (
              <p>{test.message}</p>
            )}
          </div>
        </div>
      )}
      {deleteOperation && (
        <div class="card card-inset">
          <OperationProgress operationId={deleteOperation} onFinished={onChanged} />
        </div>
      )}

      {dialog === 'suspend' && (
        <ConfirmDialog
          title={`Suspend ${tenant.name}?`}
          confirmLabel="Suspend"
          onConfirm={async () => {
            await api.post(path('/suspend'), reason.trim() ? { reason: reason.trim() } : {})
            setReason('')
            onChanged()
          }}
          onClose={() => setDialog(undefined)}
        >
          <p>Its traffic is refused with 403 TenantSuspended until you reactivate it. Data stays.</p>
          <div class="field">
            <label for="suspend-reason">Reason (optional)</label>
            <input id="suspend-reason" name="reason" value={reason} maxLength={500} onInput={(event) => setReason(event.currentTarget.value)} />
          </div>
        </ConfirmDialog>
      )}
      {dialog === 'cancel' && (
        <ConfirmDialog
          title={`Cancel ${tenant.name}?`}
          confirmLabel="Cancel tenant"
          danger
          typed={tenant.slug}
          onConfirm={async () => {
            await api.post(path('/cancel'))
            onChanged()
          }}
          onClose={() => setDialog(undefined)}
        >
          <p>Its traffic is refused; the database is kept for the retention period ({tenant.retentionDays ?? 30} days), then may be dropped.</p>
        </ConfirmDialog>
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete ${tenant.name}?`}
          confirmLabel={hard ? 'Drop database and delete' : 'Delete'}
          danger
          typed={tenant.slug}
          onConfirm={async () => {
            const answer = await api.post<Tenant | { operationId: string }>(path('/delete'), { hardDelete: hard, ...(hard && force ? { force: true } : {}) })
            if ('operationId' in answer) setDeleteOperation(answer.operationId)
            onChanged()
          }}
          onClose={() => setDialog(undefined)}
        >
          <fieldset class="radios">
            <legend>What to delete</legend>
            <label class="check">
              <input type="radio" name="delete-kind" checked={!hard} onChange={() => setHard(false)} />
              <span>Soft delete: traffic stops, the database is kept and the tenant can be reactivated.</span>
            </label>
            <label class="check">
              <input type="radio" name="delete-kind" checked={hard} onChange={() => setHard(true)} />
              <span>Hard delete: a final backup, then the database and its role are dropped.</span>
            </label>
          </fieldset>
          {hard && (
            <label class="check">
              <input type="checkbox" name="force" checked={force} onChange={(event) => setForce(event.currentTarget.checked)} />
              <span>Force: do it even if the tenant was not canceled or its retention period has not passed.</span>
            </label>
          )}
        </ConfirmDialog>
      )}
    </>
  )
}
