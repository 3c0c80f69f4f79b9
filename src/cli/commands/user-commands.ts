import type { TenantUser } from '../api-types.js'
import type { Command, CommandGroup } from '../command.js'
import { readSecret } from '../secret-input.js'
import { formatTime, type Column } from '../table-format.js'

const userColumns: Column<TenantUser>[] = [
  { header: 'EMAIL', value: (u) => u.email },
  { header: 'NAME', value: (u) => u.name },
  { header: 'ROLE', value: (u) => u.role },
  { header: 'CREATED', value: (u) => formatTime(u.createdAt) },
  { header: 'ID', value: (u) => u.id },
]

const tenantOption = { type: 'string', valueName: 'slug', description: 'the tenant (slug or id; required)' } as const

/** The tenant's own API is addressed with `X-Tenant-ID` (shared/API.md, runbook 000). */
const tenantHeader = (slug: string) => ({ 'x-tenant-id': slug })

/** `tenantctl users list --tenant <slug>`: the users in the tenant's own database. */
export const listUsers: Command = {
  name: 'list',
  summary: "List a tenant's users",
  options: { tenant: tenantOption },
  async run({ api, out }, input) {
    const tenant = input.requiredString('tenant')
    const { body } = await api.request<TenantUser[] | { items: TenantUser[] }>('GET', '/api/users', {
      headers: tenantHeader(tenant),
    })
    if (out.json) return out.printJson(body)
    const users = Array.isArray(body) ? body : body.items
    if (users.length === 0) return out.line(`Tenant ${tenant} has no users.`)
    out.table(users, userColumns)
  },
}

/** `tenantctl users add --tenant <slug> --email e ...`: password from stdin, env or prompt. */
export const addUser: Command = {
  name: 'add',
  summary: 'Add a user to a tenant',
  options: {
    tenant: tenantOption,
    email: { type: 'string', valueName: 'email', description: 'login email (required)' },
    name: { type: 'string', valueName: 'name', description: 'display name' },
    role: { type: 'string', valueName: 'role', description: 'admin or member (default member)' },
    'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
  },
  details: 'The password comes from --password-stdin, else TENANTCTL_USER_PASSWORD, else a prompt.',
  async run({ api, out, env, terminal }, input) {
    const tenant = input.requiredString('tenant')
    const email = input.requiredString('email')
    const body = {
      email,
      name: input.string('name'),
      role: input.choice('role', ['admin', 'member'] as const),
      password: await readSecret(terminal, {
        fromStdin: input.flag('password-stdin'),
        envVar: 'TENANTCTL_USER_PASSWORD',
        env,
        prompt: `Password for ${email}: `,
        stdinFlag: '--password-stdin',
      }),
    }
    const { body: user } = await api.request<TenantUser>('POST', '/api/users', { body, headers: tenantHeader(tenant) })
    if (out.json) return out.printJson(user)
    out.success(`User ${user.email} added to tenant ${tenant} (${user.role})`)
  },
}

export const usersGroup: CommandGroup = {
  name: 'users',
  summary: "A tenant's own users",
  commands: [listUsers, addUser],
  defaultCommand: 'list',
}
