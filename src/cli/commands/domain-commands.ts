import type { TenantDomain } from '../api-types.js'
import type { Command, CommandGroup } from '../command.js'
import { formatTime, type Column } from '../table-format.js'
import { tenantPath } from './tenant-view.js'

const domainColumns: Column<TenantDomain>[] = [
  { header: 'DOMAIN', value: (d) => d.domain },
  { header: 'STATUS', value: (d) => d.status },
  { header: 'VERIFIED', value: (d) => (d.verifiedAt ? formatTime(d.verifiedAt) : '-') },
  { header: 'LAST CHECK', value: (d) => (d.lastCheckedAt ? formatTime(d.lastCheckedAt) : '-') },
  { header: 'LAST ERROR', value: (d) => d.lastError ?? '' },
]

const domainPath = (tenant: string, domain: string, action = '') => tenantPath(tenant, `/domains/${encodeURIComponent(domain)}${action}`)

/** `tenantctl domains add <tenant> <domain>`: pending, and what to do to verify it. */
export const addDomain: Command = {
  name: 'add',
  summary: 'Add a custom domain to a tenant (pending until verified)',
  args: ['<tenant>', '<domain>'],
  details: 'Then point the domain at the edge (DNS) and run `tenantctl domains verify <tenant> <domain>`.',
  async run({ api, out }, input) {
    const [tenant, domain] = [input.arg(0), input.arg(1)]
    const { body } = await api.request<{ domain: TenantDomain; instructions: string }>('POST', tenantPath(tenant, '/domains'), { body: { domain } })
    if (out.json) return out.printJson(body)
    out.success(`${body.domain.domain} added to ${tenant} (pending)`)
    out.line()
    out.line('Next:')
    out.line(`  1. Point ${body.domain.domain} at the edge: a DNS A/AAAA record (or a CNAME) to the address Caddy serves on, port 80 open.`)
    out.line(`  2. tenantd then answers ${body.domain.verification.url}`)
    out.line(`     with the body ${body.domain.verification.expectedBody}`)
    out.line(`  3. Verify: tenantctl domains verify ${tenant} ${body.domain.domain}`)
  },
}

/** `tenantctl domains list <tenant>`: a tenant's custom domains. */
export const listDomains: Command = {
  name: 'list',
  summary: "List a tenant's custom domains",
  args: ['<tenant>'],
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const { body } = await api.request<{ items: TenantDomain[] }>('GET', tenantPath(tenant, '/domains'))
    if (out.json) return out.printJson(body)
    if (body.items.length === 0) return out.line(`No custom domains for ${tenant}. Add one with \`tenantctl domains add ${tenant} <domain>\`.`)
    out.table(body.items, domainColumns)
  },
}

/** `tenantctl domains verify <tenant> <domain>`: tenantd fetches the token through the domain. */
export const verifyDomain: Command = {
  name: 'verify',
  summary: 'Verify a domain: tenantd fetches its token through the domain (it must point at the edge)',
  args: ['<tenant>', '<domain>'],
  async run({ api, out }, input) {
    const [tenant, domain] = [input.arg(0), input.arg(1)]
    const { body } = await api.request<TenantDomain>('POST', domainPath(tenant, domain, '/verify'))
    if (out.json) return out.printJson(body)
    out.success(`${body.domain} verified; it now serves ${tenant}`)
  },
}

/** `tenantctl domains remove <tenant> <domain>`: the domain stops routing at once. */
export const removeDomain: Command = {
  name: 'remove',
  summary: 'Remove a custom domain (it stops routing to the tenant at once)',
  args: ['<tenant>', '<domain>'],
  async run({ api, out }, input) {
    const [tenant, domain] = [input.arg(0), input.arg(1)]
    await api.request('DELETE', domainPath(tenant, domain))
    if (out.json) return out.printJson({ tenant, domain, removed: true })
    out.success(`${domain} removed from ${tenant}`)
  },
}

export const domainsGroup: CommandGroup = {
  name: 'domains',
  summary: 'Custom domains per tenant: add, list, verify, remove',
  commands: [listDomains, addDomain, verifyDomain, removeDomain],
  defaultCommand: 'list',
}
