import type { Operation } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { tenantPath } from './tenant-view.js'

interface MoveRecord {
  method: string
  methodReason: string | null
  keptDatabase: string
  freezeMs: number | null
  rollbackUntil: string
}

/**
 * `tenantctl move <tenant> --to <host>`: moves the tenant's database to another db host with
 * a progress bar naming the current step; `--rollback` returns it to where its last move took
 * it from, with the writes made since.
 */
export const move: Command = {
  name: 'move',
  summary: "Move a tenant's database to another db host (copied while writable, short freeze, verified, switched; source kept for --rollback)",
  args: ['<tenant>'],
  options: {
    to: { type: 'string', valueName: 'host', description: 'db host id or name to move to (`tenantctl hosts list`)' },
    rollback: { type: 'boolean', description: 'move the tenant back to the source of its last move (while TENANTD_MOVE_KEEP_HOURS last)' },
  },
  details:
    'Steps: prepareTarget, copySchema, copyData, createIndexes, catchUp (the tenant stays writable), freeze (503 + Retry-After), applyFinalChanges, setSequences, compareTables (row counts and checksums), switchCatalog, unfreeze, keepSource. A failure before the switch leaves the tenant on its source with nothing left on the target; `tenantctl ops retry <id>` starts it again.',
  async run({ api, out }, input) {
    const tenant = input.arg(0)!
    const to = input.string('to')
    const rollback = input.flag('rollback')
    if (rollback === (to !== undefined)) throw new UsageError('give either --to <host> or --rollback', { hint: 'tenantctl help move' })
    const { body } = rollback
      ? await api.request<{ operationId: string }>('POST', tenantPath(tenant, '/move/rollback'))
      : await api.request<{ operationId: string }>('POST', tenantPath(tenant, '/move'), { body: { targetHostId: to } })
    if (!out.json) out.note(rollback ? `Moving ${tenant} back to the source of its last move (operation ${body.operationId})` : `Moving ${tenant} to ${to} (operation ${body.operationId})`)
    const operation: Operation = await watchOperation(api, out, body.operationId)
    const { body: moves } = await api.request<{ items: Array<MoveRecord & { operationId: string | null }> }>('GET', tenantPath(tenant, '/moves'))
    const record = moves.items.find((m) => m.operationId === body.operationId)
    if (out.json) return out.printJson({ operationId: body.operationId, operation, move: record ?? null })
    const how = record ? ` by ${record.method} (writes frozen ${record.freezeMs ?? '?'} ms); the source is kept as ${record.keptDatabase} until ${record.rollbackUntil}` : ''
    out.success(rollback ? `${tenant} is back on the host it was moved from${how}` : `${tenant} now lives on ${to}${how}`)
  },
}
