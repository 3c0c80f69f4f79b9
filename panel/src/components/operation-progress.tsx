import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import { operationState, type Operation } from '../api/api-types.js'
import { humanize } from '../format.js'
import { useInterval } from '../hooks/use-api.js'
import { ErrorBanner } from './error-banner.js'
import { ProgressBar } from './progress-bar.js'
import { StatusBadge } from './status-badge.js'

/** Quick enough to feel live, light on the server (tenantctl polls at 300 ms). */
const pollMs = 500

const finished = new Set(['succeeded', 'failed', 'rolled_back'])

/**
 * The live progress of one operation (GET /api/admin/operations/:id every 500 ms): step,
 * progress bar, state, and the error with a Retry button when it failed. Calls `onFinished`
 * once when it ends.
 */
export function OperationProgress({ operationId, onFinished }: { operationId: string; onFinished?(operation: Operation): void }) {
  const [operation, setOperation] = useState<Operation | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const done = operation !== undefined && finished.has(operation.status)
  const failing = operation !== undefined && operationState(operation) === 'failing'

  const poll = () => {
    api.get<Operation>(`/api/admin/operations/${encodeURIComponent(operationId)}`).then(
      (latest) => {
        setOperation(latest)
        setError(undefined)
      },
      setError
    )
  }
  useEffect(poll, [operationId])
  useInterval(poll, pollMs, !done)
  useEffect(() => {
    if (done) onFinished?.(operation)
  }, [done])

  const retry = async () => {
    try {
      await api.post(`/api/admin/operations/${encodeURIComponent(operationId)}/retry`)
      poll()
    } catch (failure) {
      setError(failure)
    }
  }

  return (
    <div class="operation" aria-live="polite">
      <div class="operation-head">
        <span class="operation-kind">{operation ? humanize(operation.kind) : 'Operation'}</span>
        {operation && <StatusBadge status={operationState(operation)} />}
      </div>
      <ProgressBar value={operation?.progress ?? 0} label={`${operation ? humanize(operation.kind) : 'Operation'} progress`} />
      <p class="operation-step">
        {operation?.status === 'succeeded' ? 'Done' : failing ? `Failed at ${humanize(operation?.step)}; putting things back` : `Step: ${humanize(operation?.step ?? 'starting')}`}
      </p>
      {operation?.error && (
        <div class="banner banner-error" role="alert">
          <div class="banner-body">
            <p class="banner-message">{operation.error}</p>
            <p class="banner-hint">
              {failing
                ? 'It is undoing its partial work; Retry appears once it reads Failed.'
                : 'Fix the cause, then retry: the operation resumes from its recorded step.'}
            </p>
          </div>
          {operation.status === 'failed' && (
            <button type="button" class="button button-small" onClick={retry}>
              Retry
            </button>
          )}
        </div>
      )}
      <ErrorBanner error={error} />
    </div>
  )
}
