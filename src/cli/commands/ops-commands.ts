import { operationState, type Operation, type Page } from '../api-types.js'
import type { Command, CommandGroup } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { formatTime, type Column } from '../table-format.js'

const operationPath = (id: string, action = '') => `/api/admin/operations/${encodeURIComponent(id)}${action}`

const operationColumns: Column<Operation>[] = [
  { header: 'ID', value: (o) => o.id },
  { header: 'KIND', value: (o) => o.kind },
  { header: 'TENANT', value: (o) => o.tenantSlug ?? o.tenantId },
  { header: 'STATUS', value: (o) => operationState(o) },
  { header: 'STEP', value: (o) => o.step },
  { header: 'PROGRESS', value: (o) => `${o.progress}%`, alignRight: true },
  { header: 'ATTEMPTS', value: (o) => o.attempts, alignRight: true },
  { header: 'CREATED', value: (o) => formatTime(o.createdAt) },
]

/** `tenantctl ops [--tenant id] [--status s] [--limit n]`: recent durable operations. */
export const listOperations: Command = {
  name: 'list',
  summary: 'List operations (provisioning, deletes, moves, ...)',
  options: {
    tenant: { type: 'string', valueName: 'id', description: 'only operations of this tenant' },
    status: { type: 'string', valueName: 'status', description: 'pending, running, succeeded, failed or rolled_back' },
    limit: { type: 'string', valueName: 'n', description: 'at most n operations' },
  },
  async run({ api, out }, input) {
    const { body } = await api.request<Page<Operation>>('GET', '/api/admin/operations', {
      query: { tenantId: input.string('tenant'), status: input.string('status'), limit: input.integer('limit', 1) },
    })
    if (out.json) return out.printJson(body)
    if (body.items.length > 0) out.table(body.items, operationColumns)
    out.line(`${body.items.length} of ${body.total ?? body.items.length} operations`)
  },
}

/** `tenantctl ops show <opId>`: one operation, with its error when it failed. */
export const showOperation: Command = {
  name: 'show',
  summary: 'Show one operation',
  args: ['<opId>'],
  async run({ api, out }, input) {
    const { body: op } = await api.request<Operation>('GET', operationPath(input.arg(0)))
    if (out.json) return out.printJson(op)
    out.keyValues([
      ['ID', op.id],
      ['Kind', op.kind],
      ['Tenant', op.tenantSlug ? `${op.tenantSlug} (${op.tenantId})` : op.tenantId],
      ['Status', operationState(op)],
      ['Step', op.step],
      ['Progress', `${op.progress}%`],
      ['Attempts', op.attempts],
      ['Error', op.error],
      ['Created', formatTime(op.createdAt)],
      ['Updated', formatTime(op.updatedAt)],
      ['Finished', op.finishedAt ? formatTime(op.finishedAt) : null],
    ])
  },
}

/** `tenantctl ops retry <opId>`: resumes a failed operation from its failed step and follows it. */
export const retryOperation: Command = {
  name: 'retry',
  summary: 'Retry a failed operation and follow it',
  args: ['<opId>'],
  async run({ api, out }, input) {
    const id = input.arg(0)
    const { body } = await api.request<Operation | { operationId: string }>('POST', operationPath(id, '/retry'))
    const operationId = 'operationId' in body ? body.operationId : body.id
    if (!out.json) out.note(`Retrying operation ${operationId}`)
    const op = await watchOperation(api, out, operationId)
    if (out.json) return out.printJson(op)
    out.success(`Operation ${op.id} (${op.kind}) succeeded`)
  },
}

export const opsGroup: CommandGroup = {
  name: 'ops',
  summary: 'Durable operations: list, inspect, retry',
  commands: [listOperations, showOperation, retryOperation],
  defaultCommand: 'list',
}
