import type { DatabaseHost } from '../api-types.js'
import type { Command, CommandGroup } from '../command.js'
import { readSecret } from '../secret-input.js'
import type { Column } from '../table-format.js'

const hostColumns: Column<DatabaseHost>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'NAME', value: (h) => (h.isDefault ? `${h.name} (default)` : h.name) },
  { header: 'ADDRESS', value: (h) => `${h.host}:${h.port}` },
  { header: 'ADMIN', value: (h) => h.adminUser },
  { header: 'STATUS', value: (h) => h.status },
  { header: 'TENANTS', value: (h) => (h.maxTenants == null ? `${h.tenantCount}` : `${h.tenantCount}/${h.maxTenants}`), alignRight: true },
]

/** `tenantctl hosts list`: the db hosts tenant databases live on. */
export const listHosts: Command = {
  name: 'list',
  summary: 'List db hosts',
  async run({ api, out }) {
    const { body } = await api.request<{ items: DatabaseHost[] }>('GET', '/api/admin/hosts')
    if (out.json) return out.printJson(body)
    if (body.items.length === 0) return out.line('No db hosts registered. Add one with `tenantctl hosts add`.')
    out.table(body.items, hostColumns)
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

/** `tenantctl hosts drain <id>`: no new tenants are placed on the host. */
export const drainHost: Command = {
  name: 'drain',
  summary: 'Stop placing new tenants on a db host',
  args: ['<id>'],
  async run({ api, out }, input) {
    const { body: host } = await api.request<DatabaseHost>('POST', `/api/admin/hosts/${encodeURIComponent(input.arg(0))}/drain`)
    if (out.json) return out.printJson(host)
    out.success(`Db host ${host.name} draining; its ${host.tenantCount} tenants stay until moved`)
  },
}

export const hostsGroup: CommandGroup = {
  name: 'hosts',
  summary: 'Db hosts that hold tenant databases',
  commands: [listHosts, addHost, drainHost],
  defaultCommand: 'list',
}
