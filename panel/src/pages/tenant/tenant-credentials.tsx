import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { Operation, OperationStarted, Page, Tenant } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { Notice } from '../../components/feedback.js'
import { OperationProgress } from '../../components/operation-progress.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'

/**
 * Credential rotation (POST .../rotate-credentials): a new database password with no failed
 * request, followed live; and when the last rotation ran (the tenant's latest
 * rotate_credentials operation). Super-admins only.
 */
export function TenantCredentials({ tenant, onChanged }: { tenant: Tenant; onChanged(): void }) {
  const last = useApi<Page<Operation>>('/api/admin/operations', { tenantId: tenant.id, kind: 'rotate_credentials', limit: 1 })
  const [operationId, setOperationId] = useState<string | undefined>(undefined)
  const [outcome, setOutcome] = useState<Operation | undefined>(undefined)
  const [confirming, setConfirming] = useState(false)
  const busy = operationId !== undefined && outcome === undefined
  const previous = last.data?.items[0]

  return (
    <section class="card" aria-labelledby="credentials-title">
      <div class="card-header">
        <h2 id="credentials-title">Database credentials</h2>
        <button type="button" class="button button-small" onClick={() => setConfirming(true)} disabled={busy || tenant.status !== 'active'}>
          Rotate credentials
        </button>
      </div>
      <ErrorBanner error={last.error} onRetry={last.reload} />
      {!operationId && (
        <p class="muted">
          {previous ? (
            <>
              Last rotation: <StatusBadge status={previous.status} /> {formatDate(previous.finishedAt ?? previous.createdAt)}
            </>
          ) : (
            'Never rotated: the tenant still logs in with the password it was provisioned with.'
          )}
        </p>
      )}
      {operationId && (
        <div class="card-inset">
          <OperationProgress
            key={operationId}
            operationId={operationId}
            onFinished={(operation) => {
              setOutcome(operation)
              last.reload()
              onChanged()
            }}
          />
          {outcome?.status === 'succeeded' && <Notice>Rotated {formatDate(outcome.finishedAt)}: every replica uses the new password and the old one no longer logs in.</Notice>}
        </div>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Rotate the credentials of ${tenant.name}?`}
          confirmLabel="Rotate"
          onConfirm={async () => {
            setOutcome(undefined)
            setOperationId((await api.post<OperationStarted>(tenantPath(tenant.slug, '/rotate-credentials'))).operationId)
          }}
          onClose={() => setConfirming(false)}
        >
          <p>A new password is set on the idle login role; every replica switches to it, the old sessions drain, then the old password stops logging in. No request fails.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}
