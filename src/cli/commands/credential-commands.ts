import type { Command } from '../command.js'
import { watchOperation } from '../operation-watch.js'

/**
 * `tenantctl rotate-credentials <tenant>`: a new database password for the tenant, switched
 * to on every replica without failing a request, then the old one stops working.
 */
export const rotateCredentials: Command = {
  name: 'rotate-credentials',
  summary: "Rotate a tenant's database credential (new password, pools switch and drain, old one disabled)",
  args: ['<tenant>'],
  details:
    'The tenant has two login roles that take turns: the idle one gets a new password, every tenantd replica switches its pools to it (in-flight queries finish on the old pool), and once no session of the old one is left its login is taken away. Plans can rotate on a schedule: `tenantctl plans update <plan> --rotate-every-days N`.',
  async run({ api, out }, input) {
    const tenant = input.arg(0)!
    const { body } = await api.request<{ operationId: string }>('POST', `/api/admin/tenants/${encodeURIComponent(tenant)}/rotate-credentials`)
    if (!out.json) out.note(`Rotating the database credential of ${tenant} (operation ${body.operationId})`)
    const operation = await watchOperation(api, out, body.operationId)
    if (out.json) return out.printJson({ operationId: body.operationId, operation })
    out.success(`${tenant} now uses a new database credential; the previous one no longer logs in`)
  },
}
