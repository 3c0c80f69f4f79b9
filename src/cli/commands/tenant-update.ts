import type { Tenant } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command } from '../command.js'
import { tenantPath } from './tenant-view.js'

/** `tenantctl update <tenant> [--subdomain s] [--name n]`: a new address (the old one stops answering) or name. */
export const update: Command = {
  name: 'update',
  summary: "Change a tenant's subdomain (its address) or name",
  args: ['<tenant>'],
  options: {
    subdomain: { type: 'string', valueName: 'subdomain', description: 'new subdomain; the old address stops answering at once' },
    name: { type: 'string', valueName: 'name', description: 'new display name' },
  },
  async run({ api, out }, input) {
    const subdomain = input.string('subdomain')
    const name = input.string('name')
    if (subdomain === undefined && name === undefined) throw new UsageError('nothing to change: give --subdomain and/or --name')
    const { body } = await api.request<Tenant>('PATCH', tenantPath(input.arg(0)), { body: { subdomain, name } })
    if (out.json) return out.printJson(body)
    out.success(`Tenant ${body.slug} updated: subdomain ${body.subdomain}, name "${body.name}"`)
  },
}
