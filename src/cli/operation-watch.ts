import { setTimeout as sleep } from 'node:timers/promises'
import type { ApiClient } from './api-client.js'
import { operationState, type Operation } from './api-types.js'
import { CliError } from './cli-error.js'
import type { Output } from './output.js'
import { ProgressBar } from './progress-bar.js'

/** How often an operation is polled: quick enough to feel live, light on the server. */
const pollIntervalMs = 300

const failedStatuses = new Set(['failed', 'rolled_back'])

/**
 * Polls `GET /api/admin/operations/:id` until the operation finishes, drawing a progress bar
 * on stderr (none with `--json`). Returns the succeeded operation; throws a CliError naming
 * the failed step and hinting `tenantctl ops retry <id>` when it failed or was rolled back.
 *
 * @example
 *   const op = await watchOperation(api, out, body.operationId)
 */
export async function watchOperation(api: ApiClient, out: Output, operationId: string): Promise<Operation> {
  const bar = out.json ? undefined : new ProgressBar(out.stderr, out.interactive)
  const path = `/api/admin/operations/${encodeURIComponent(operationId)}`
  // Ctrl-C stops watching, not the operation: say where to find it again.
  const onInterrupt = () => {
    bar?.finish()
    out.error(`stopped watching; operation ${operationId} keeps running`, `tenantctl ops show ${operationId}`)
    process.exit(130)
  }
  process.once('SIGINT', onInterrupt)
  try {
    for (;;) {
      const { body: operation } = await api.request<Operation>('GET', path)
      const failing = operationState(operation) === 'failing'
      bar?.update(operation.progress, failing ? `failed at ${operation.step ?? '?'}; putting things back` : (operation.step ?? operation.status))
      if (operation.status === 'succeeded') {
        bar?.update(100, 'done')
        return operation
      }
      if (failedStatuses.has(operation.status)) throw operationFailed(operation)
      await sleep(pollIntervalMs)
    }
  } finally {
    bar?.finish()
    process.off('SIGINT', onInterrupt)
  }
}

function operationFailed(operation: Operation): CliError {
  const where = operation.step ? ` at step ${operation.step}` : ''
  const state = operation.status === 'rolled_back' ? 'failed and was rolled back' : 'failed'
  const reason = operation.error ? `: ${operation.error}` : ''
  return new CliError(`operation ${operation.id} (${operation.kind}) ${state}${where}${reason}`, {
    hint: `tenantctl ops retry ${operation.id}`,
  })
}
