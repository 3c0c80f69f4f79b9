import type { DatabaseHost, HostDrainResult, HostUsage } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command, CommandGroup } from '../command.js'
import { readSecret } from '../secret-input.js'
import { formatBytes, type Column } from '../table-format.js'

const hostColumns: Column<DatabaseHost>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'NAME', value: (h) => (h.isDefault ? `${h.name} (default)` : h.name) },
  { header: 'ADDRESS', value: (h) => `${h.host}:${h.port}` },
  { header: 'ADMIN', value: (h) => h.adminUser },
  { header: 'STATUS', value: (h) => h.status },
  { header: 'TENANTS', value: (h) => (h.maxTenants == null ? `${h.tenantCount}` : `${h.tenantCount}/${h.maxTenants}`), alignRight: true },
]

/** "12/97", "unreachable" or "-" (a removed host). */
function describeConnections(usage: HostUsage | undefined): string {
  if (!usage) return '-'
  return usage.connections ? `${usage.connections.used}/${usage.connections.max}` : 'unreachable'
}

/** `tenantctl hosts list`: the db hosts tenant databases live on, their tenants, connections and data. */
export const listHosts: Command = {
  name: 'list',
  summary: 'List db hosts',
  async run({ api, out }) {
    const { body } = await api.request<{ items: DatabaseHost[] }>('GET', '/api/admin/hosts')
    if (out.json) return out.printJson(body)
    if (body.items.length === 0) return out.line('No db hosts registered. Add one with `tenantctl hosts add`.')
    const { body: usage } = await api.request<{ items: HostUsage[] }>('GET', '/api/admin/hosts/usage')
    const load = new Map(usage.items.map((u) => [u.id, u]))
    out.table(body.items, [
      ...hostColumns,
      { header: 'CONNECTIONS', value: (h) => describeConnections(load.get(h.id)), alignRight: true },
      { header: 'TENANT DATA', value: (h) => formatBytes(load.get(h.id)?.tenantBytes ?? null), alignRight: true },
    ])
  },
}

/** `tenantctl hosts add ...`: registers a PostgreSQL server; its admin password never goes through argv. */
export const addHost: Command = {
  name: 'add',
  summary: 'Register a db host',
  options: {
    name: { type: 'string', valueName: 'name', description: 'unique name (required)' },
    host: { type: 'string', valueName: 'address', description: 'hostname or IP (required)' },
    port: { type: 'string', valueName: 'port', description: 'PostgreSQL port (required)' },
    'admin-user': { type: 'string', valueName: 'role', description: 'role that may create databases and roles (required)' },
    'max-tenants': { type: 'string', valueName: 'n', description: 'place at most n tenants on it' },
    'admin-password-stdin': { type: 'boolean', description: 'read the admin password from stdin' },
  },
  details: 'The admin password comes from --admin-password-stdin, else TENANTCTL_HOST_PASSWORD, else a prompt.',
  async run({ api, out, env, terminal }, input) {
    const body = {
      name: input.requiredString('name'),
      host: input.requiredString('host'),
      port: input.requiredInteger('port', 1),
      adminUser: input.requiredString('admin-user'),
      maxTenants: input.integer('max-tenants', 1),
      adminPassword: await readSecret(terminal, {
        fromStdin: input.flag('admin-password-stdin'),
        envVar: 'TENANTCTL_HOST_PASSWORD',
        env,
        prompt: `Password of ${input.string('admin-user')} on ${input.string('host')}: `,
        stdinFlag: '--admin-password-stdin',
      }),
    }
    const { body: host } = await api.request<DatabaseHost>('POST', '/api/admin/hosts', { body })
    if (out.json) return out.printJson(host)
    out.success(`Db host ${host.name} added (${host.host}:${host.port}, id ${host.id})`)
  },
}

/** `tenantctl hosts drain <id> [--move]`: no new tenants are placed on the host; --move moves its tenants off. */
export const drainHost: Command = {
  name: 'drain',
  summary: 'Stop placing new tenants on a db host; --move: move every tenant off it',
  args: ['<id>'],
  options: {
    move: { type: 'boolean', description: 'move every active or suspended tenant to the other hosts (waits until all ended)' },
    concurrency: { type: 'string', valueName: 'n', description: 'moves at once with --move (default 2)' },
  },
  async run({ api, out }, input) {
    const path = `/api/admin/hosts/${encodeURIComponent(input.arg(0))}/drain`
    if (!input.flag('move')) {
      if (input.string('concurrency') !== undefined) throw new UsageError('--concurrency goes with --move')
      const { body: host } = await api.request<DatabaseHost>('POST', path)
      if (out.json) return out.printJson(host)
      out.success(`Db host ${host.name} draining; its ${host.tenantCount} tenants stay until moved (\`tenantctl hosts drain ${host.name} --move\`)`)
      return
    }
    const concurrency = input.integer('concurrency', 1)
    if (!out.json) out.note(`Draining ${input.arg(0)}: moving its tenants off, ${concurrency ?? 2} at once (each move freezes its tenant for a moment)`)
    const { body } = await api.request<HostDrainResult>('POST', path, { body: { moveTenants: true, ...(concurrency ? { concurrency } : {}) }, timeoutMs: null })
    if (out.json) return out.printJson(body)
    if (body.tenants.length) {
      out.table(body.tenants, [
        { header: 'TENANT', value: (t) => t.tenant },
        { header: 'RESULT', value: (t) => t.status },
        { header: 'TO', value: (t) => t.to ?? '-' },
        { header: 'OPERATION', value: (t) => t.operationId ?? '-' },
        { header: 'ERROR', value: (t) => t.error ?? '' },
      ])
    }
    const line = `${body.host.name}: ${body.moved} moved, ${body.failed} failed, ${body.skipped} skipped; ${body.host.tenantCount} tenant${body.host.tenantCount === 1 ? '' : 's'} left on it`
    if (body.failed || body.host.tenantCount) {
      out.line(`${line}. Fix the cause and run the drain again; \`tenantctl hosts remove ${body.host.name}\` once it is empty`)
      return 1
    }
    out.success(`${line}; remove it with \`tenantctl hosts remove ${body.host.name}\``)
  },
}

/** `tenantctl hosts remove <id>`: a host with no tenant left. */
export const removeHost: Command = {
  name: 'remove',
  summary: 'Remove a db host that holds no tenant any more',
  args: ['<id>'],
  async run({ api, out }, input) {
    const { body: host } = await api.request<DatabaseHost>('DELETE', `/api/admin/hosts/${encodeURIComponent(input.arg(0))}`)
    if (out.json) return out.printJson(host)
    out.success(`Db host ${host.name} removed; tenantd no longer connects to ${host.host}:${host.port}`)
  },
}

export const hostsGroup: CommandGroup = {
  name: 'hosts',
  summary: 'Db hosts that hold tenant databases',
  commands: [listHosts, addHost, drainHost, removeHost],
  defaultCommand: 'list',
}
