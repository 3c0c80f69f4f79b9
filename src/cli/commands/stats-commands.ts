import type { Page, Tenant } from '../api-types.js'
import type { Command } from '../command.js'
import { tenantPath } from './tenant-view.js'

interface TenantStats {
  slug: string
  database: string
  size: string
  activeConnections: number
  connectionLimit: number
  tables: Array<{ name: string; rows: number; exact: boolean }>
  pool: { total: number; idle: number; waiting: number; leases: number } | null
}

/**
 * `tenantctl stats [<id>]`: runbook 003's monitor script. With a tenant: its size, active
 * connections and row counts per table. Without: one line per active tenant.
 */
export const stats: Command = {
  name: 'stats',
  summary: 'Size, connections and row counts of tenant databases (runbook 003 monitor)',
  args: ['[<id>]'],
  details: 'Without <id>, every active tenant (one line each); with it, that tenant table by table.',
  async run({ api, out }, input) {
    const id = input.positionals[0]
    if (id !== undefined) {
      const { body } = await api.request<TenantStats>('GET', tenantPath(id, '/stats'))
      if (out.json) return out.printJson(body)
      out.keyValues([
        ['Tenant', body.slug],
        ['Database', body.database],
        ['Size', body.size],
        ['Connections', `${body.activeConnections} active (limit ${body.connectionLimit})`],
        ['Pool here', body.pool ? `${body.pool.total} open, ${body.pool.idle} idle, ${body.pool.waiting} waiting` : 'none open'],
      ])
      out.line('')
      out.table(body.tables, [
        { header: 'TABLE', value: (t) => t.name },
        { header: 'ROWS', value: (t) => `${t.exact ? '' : '~'}${t.rows}`, alignRight: true },
      ])
      return
    }
    const { body: page } = await api.request<Page<Tenant>>('GET', '/api/admin/tenants', { query: { status: 'active', limit: 500 } })
    const rows: Array<{ slug: string; size: string; connections: string; rows: string; tables: string }> = []
    for (const tenant of page.items) {
      const { body } = await api.request<TenantStats>('GET', tenantPath(tenant.slug, '/stats'))
      rows.push({
        slug: tenant.slug,
        size: body.size,
        connections: `${body.activeConnections}/${body.connectionLimit}`,
        tables: String(body.tables.length),
        rows: String(body.tables.reduce((sum, t) => sum + t.rows, 0)),
      })
    }
    if (out.json) return out.printJson(rows)
    out.table(rows, [
      { header: 'TENANT', value: (r) => r.slug },
      { header: 'SIZE', value: (r) => r.size, alignRight: true },
      { header: 'CONNECTIONS', value: (r) => r.connections, alignRight: true },
      { header: 'TABLES', value: (r) => r.tables, alignRight: true },
      { header: 'ROWS', value: (r) => r.rows, alignRight: true },
    ])
  },
}
