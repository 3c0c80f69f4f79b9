import type { Command, CommandGroup } from '../command.js'
import { readSecret } from '../secret-input.js'
import { formatTime, type Column } from '../table-format.js'

interface Operator {
  id: string
  email: string
  name: string
  role: string
  tenantId: string | null
  tenantSlug: string | null
  createdAt: string
  lastLoginAt: string | null
}

const operatorColumns: Column<Operator>[] = [
  { header: 'ID', value: (o) => o.id },
  { header: 'EMAIL', value: (o) => o.email },
  { header: 'ROLE', value: (o) => o.role },
  { header: 'TENANT', value: (o) => o.tenantSlug ?? '-' },
  { header: 'LAST LOGIN', value: (o) => (o.lastLoginAt ? formatTime(o.lastLoginAt) : 'never') },
]

/** `tenantctl operators list`. */
export const listOperators: Command = {
  name: 'list',
  summary: 'List operators',
  async run({ api, out }) {
    const { body } = await api.request<{ items: Operator[] }>('GET', '/api/admin/operators')
    if (out.json) return out.printJson(body)
    out.table(body.items, operatorColumns)
  },
}

/** `tenantctl operators add --email e --role tenant_admin --tenant acme`: the password never goes through argv. */
export const addOperator: Command = {
  name: 'add',
  summary: 'Create an operator (super_admin, or tenant_admin of one tenant)',
  options: {
    email: { type: 'string', valueName: 'email', description: 'login email (required)' },
    name: { type: 'string', valueName: 'name', description: 'display name' },
    role: { type: 'string', valueName: 'role', description: 'super_admin or tenant_admin (required)' },
    tenant: { type: 'string', valueName: 'id', description: 'for tenant_admin: the tenant it administers' },
    'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
  },
  details: 'The password comes from --password-stdin, else TENANTCTL_OPERATOR_PASSWORD, else a prompt.',
  async run({ api, out, env, terminal }, input) {
    const body = {
      email: input.requiredString('email'),
      name: input.string('name'),
      role: input.requiredString('role'),
      tenant: input.string('tenant'),
      password: await readSecret(terminal, {
        fromStdin: input.flag('password-stdin'),
        envVar: 'TENANTCTL_OPERATOR_PASSWORD',
        env,
        prompt: `Password for ${input.string('email')}: `,
        stdinFlag: '--password-stdin',
      }),
    }
    const { body: operator } = await api.request<Operator>('POST', '/api/admin/operators', { body })
    if (out.json) return out.printJson(operator)
    out.success(`Operator ${operator.email} created (${operator.role}${operator.tenantSlug ? ` of ${operator.tenantSlug}` : ''})`)
  },
}

/** `tenantctl operators remove <id>`. */
export const removeOperator: Command = {
  name: 'remove',
  summary: 'Remove an operator (its sessions end)',
  args: ['<id>'],
  async run({ api, out }, input) {
    const { body } = await api.request<Operator>('DELETE', `/api/admin/operators/${encodeURIComponent(input.arg(0))}`)
    if (out.json) return out.printJson(body)
    out.success(`Operator ${body.email} removed`)
  },
}

/** `tenantctl operators revoke-sessions <id>`: runbook 004, suspected account compromise. */
export const revokeSessions: Command = {
  name: 'revoke-sessions',
  summary: 'Revoke every session of an operator (suspected compromise)',
  args: ['<id>'],
  async run({ api, out }, input) {
    const { body } = await api.request<{ revoked: number }>('POST', `/api/admin/operators/${encodeURIComponent(input.arg(0))}/revoke-sessions`)
    if (out.json) return out.printJson(body)
    out.success(`${body.revoked} session(s) revoked; access tokens already issued expire within minutes`)
  },
}

export const operatorsGroup: CommandGroup = {
  name: 'operators',
  summary: 'Control-plane accounts',
  commands: [listOperators, addOperator, removeOperator, revokeSessions],
  defaultCommand: 'list',
}
