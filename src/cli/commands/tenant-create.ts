import type { Operation, Tenant } from '../api-types.js'
import type { Command } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { readSecret } from '../secret-input.js'
import { tenantPath } from './tenant-view.js'

interface ProvisionAnswer {
  tenant: Tenant
  /** 202: the operation still runs. */
  operationId?: string
  /** 201: it is done. */
  operation?: Operation
}

/**
 * `tenantctl create --name N ...`: provisions a tenant (database, role, migrations,
 * admin user) and follows the operation with a progress bar; `--no-wait` only starts it.
 */
export const create: Command = {
  name: 'create',
  summary: 'Provision a new tenant with its own database',
  options: {
    name: { type: 'string', valueName: 'name', description: 'display name (required)' },
    slug: { type: 'string', valueName: 'slug', description: 'URL-safe key; derived from the name when absent' },
    subdomain: { type: 'string', valueName: 'sub', description: 'serves <sub>.<base domain>; defaults to the slug' },
    plan: { type: 'string', valueName: 'plan', description: 'free, pro or enterprise' },
    'contact-email': { type: 'string', valueName: 'email', description: 'who to contact about the tenant' },
    'admin-email': { type: 'string', valueName: 'email', description: "the tenant's first admin user" },
    'admin-name': { type: 'string', valueName: 'name', description: "the admin user's name" },
    'admin-password-stdin': { type: 'boolean', description: "read the admin user's password from stdin" },
    host: { type: 'string', valueName: 'hostId', description: 'db host to place the database on (default: chosen by tenantd)' },
    'no-wait': { type: 'boolean', description: 'start provisioning, print the operation id and exit' },
  },
  details:
    "The admin password comes from --admin-password-stdin, else TENANTCTL_ADMIN_PASSWORD, else a prompt\n" +
    'when --admin-email is given on a terminal.',
  async run({ api, out, env, terminal }, input) {
    const adminEmail = input.string('admin-email')
    const wantsPassword = adminEmail !== undefined || input.flag('admin-password-stdin')
    const adminPassword = wantsPassword
      ? await readSecret(
          terminal,
          {
            fromStdin: input.flag('admin-password-stdin'),
            envVar: 'TENANTCTL_ADMIN_PASSWORD',
            env,
            prompt: `Password for ${adminEmail ?? 'the tenant admin'}: `,
            stdinFlag: '--admin-password-stdin',
          },
          true,
        )
      : undefined
    const body = {
      name: input.requiredString('name'),
      slug: input.string('slug'),
      subdomain: input.string('subdomain'),
      plan: input.choice('plan', ['free', 'pro', 'enterprise'] as const),
      contactEmail: input.string('contact-email'),
      adminName: input.string('admin-name'),
      adminEmail,
      adminPassword,
      hostId: input.string('host'),
    }
    const { body: answer } = await api.request<ProvisionAnswer>('POST', '/api/admin/tenants/provision', { body })
    const slug = answer.tenant.slug

    if (input.flag('no-wait') && answer.operationId) {
      if (out.json) return out.printJson(answer)
      out.success(`Provisioning of tenant ${slug} started: operation ${answer.operationId}`)
      return out.line(`Follow it with: tenantctl ops show ${answer.operationId}`)
    }
    let operation = answer.operation
    let tenant = answer.tenant
    if (answer.operationId) {
      if (!out.json) out.note(`Provisioning tenant ${slug} (operation ${answer.operationId})`)
      operation = await watchOperation(api, out, answer.operationId)
      tenant = (await api.request<Tenant>('GET', tenantPath(tenant.id))).body
    }
    if (out.json) return out.printJson({ tenant, operation })
    const where = [tenant.hostName && `host ${tenant.hostName}`, tenant.database && `database ${tenant.database}`]
    const placement = where.filter(Boolean).join(', ')
    out.success(`Tenant ${slug} created (${tenant.status}${placement ? ', ' + placement : ''})`)
  },
}
