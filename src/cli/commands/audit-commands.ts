import type { AuditEntry, Page } from '../api-types.js'
import type { Command } from '../command.js'
import { formatTime, type Column } from '../table-format.js'

const auditColumns: Column<AuditEntry>[] = [
  { header: 'TIME', value: (e) => formatTime(e.createdAt) },
  { header: 'ACTOR', value: (e) => e.actorEmail ?? e.actorType },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'TENANT', value: (e) => e.tenantId },
  { header: 'TARGET', value: (e) => e.target },
  { header: 'IP', value: (e) => e.ip },
]

/** `tenantctl audit [--tenant id] [--limit n]`: the audit trail, newest first. */
export const audit: Command = {
  name: 'audit',
  summary: 'Show the audit trail',
  options: {
    tenant: { type: 'string', valueName: 'id', description: 'only entries about this tenant' },
    limit: { type: 'string', valueName: 'n', description: 'at most n entries' },
  },
  details: 'Entry details are only in --json.',
  async run({ api, out }, input) {
    const { body } = await api.request<Page<AuditEntry>>('GET', '/api/audit-logs', {
      query: { tenantId: input.string('tenant'), limit: input.integer('limit', 1) },
    })
    if (out.json) return out.printJson(body)
    if (body.items.length > 0) out.table(body.items, auditColumns)
    out.line(`${body.items.length} of ${body.total ?? body.items.length} entries`)
  },
}
