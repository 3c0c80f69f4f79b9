import type { Page, Tenant, TenantListItem } from '../api-types.js'
import type { Command } from '../command.js'
import { printTenant, tenantColumns, tenantPath } from './tenant-view.js'

/** `tenantctl list`: tenants as a table, filtered and paginated by the server. */
export const list: Command = {
  name: 'list',
  summary: 'List tenants',
  options: {
    status: { type: 'string', valueName: 'status', description: 'only tenants in this status (active, suspended, canceled, ...)' },
    search: { type: 'string', valueName: 'text', description: 'match slug, name or contact email' },
    limit: { type: 'string', valueName: 'n', description: 'at most n tenants' },
    offset: { type: 'string', valueName: 'n', description: 'skip the first n tenants' },
    sort: { type: 'string', valueName: 'field', description: 'created (default), name, slug, status, plan, host, lastBackup or size' },
    order: { type: 'string', valueName: 'asc|desc', description: 'default: newest (largest) first for created, lastBackup and size, A to Z otherwise' },
  },
  async run({ api, out }, input) {
    const { body } = await api.request<Page<TenantListItem>>('GET', '/api/admin/tenants', {
      query: {
        status: input.string('status'),
        search: input.string('search'),
        sort: input.string('sort'),
        order: input.string('order'),
        limit: input.integer('limit', 1),
        offset: input.integer('offset'),
      },
    })
    if (out.json) return out.printJson(body)
    if (body.items.length > 0) out.table(body.items, tenantColumns)
    out.line(`${body.items.length} of ${body.total ?? body.items.length} tenants`)
  },
}

/** `tenantctl show <id>`: one tenant, all its fields. */
export const show: Command = {
  name: 'show',
  summary: 'Show one tenant',
  args: ['<id>'],
  details: '<id> is the tenant id or slug.',
  async run({ api, out }, input) {
    const { body } = await api.request<Tenant>('GET', tenantPath(input.arg(0)))
    if (out.json) return out.printJson(body)
    printTenant(out, body)
  },
}

interface ConnectionTest {
  ok: boolean
  latencyMs?: number
  error?: string
  message?: string
}

/** `tenantctl test-connection <id>`: can tenantd reach the tenant's database? Exit 1 when not. */
export const testConnection: Command = {
  name: 'test-connection',
  summary: "Check that the tenant's database answers",
  args: ['<id>'],
  async run({ api, out }, input) {
    const id = input.arg(0)
    const { body } = await api.request<ConnectionTest>('POST', tenantPath(id, '/test-connection'))
    if (out.json) {
      out.printJson(body)
      return body.ok ? 0 : 1
    }
    if (body.ok) return out.success(`Database of ${id} reachable (${body.latencyMs ?? '?'} ms)`)
    const code = body.error ? ` (${body.error})` : ''
    out.error(`database of ${id} not reachable: ${body.message ?? 'no reason given'}${code}`)
    return 1
  },
}

export const tenantQueries = [list, show, testConnection]
