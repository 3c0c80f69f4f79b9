import type { Tenant } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command, CommandContext } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { askLine } from '../secret-input.js'
import { tenantPath } from './tenant-view.js'

/** `tenantctl suspend <id> [--reason r]`: the tenant stops serving traffic, data stays. */
export const suspend: Command = {
  name: 'suspend',
  summary: 'Suspend a tenant (it stops serving requests; data stays)',
  args: ['<id>'],
  options: { reason: { type: 'string', valueName: 'text', description: 'why; shown to the tenant and in the audit log' } },
  async run({ api, out }, input) {
    const { body } = await api.request<Tenant>('POST', tenantPath(input.arg(0), '/suspend'), {
      body: { reason: input.string('reason') },
    })
    if (out.json) return out.printJson(body)
    out.success(`Tenant ${body.slug} suspended`)
  },
}

/** `tenantctl reactivate <id>`: a suspended tenant serves again. */
export const reactivate: Command = {
  name: 'reactivate',
  summary: 'Reactivate a suspended tenant',
  args: ['<id>'],
  async run({ api, out }, input) {
    const { body } = await api.request<Tenant>('POST', tenantPath(input.arg(0), '/reactivate'), { body: {} })
    if (out.json) return out.printJson(body)
    out.success(`Tenant ${body.slug} reactivated`)
  },
}

/** `tenantctl cancel <id> [--retention-days n]`: ends the subscription; data kept for the retention period. */
export const cancel: Command = {
  name: 'cancel',
  summary: 'Cancel a tenant; its data is kept for the retention period',
  args: ['<id>'],
  options: { 'retention-days': { type: 'string', valueName: 'n', description: 'keep the data n days (default: the plan\'s)' } },
  async run({ api, out }, input) {
    const { body } = await api.request<Tenant>('POST', tenantPath(input.arg(0), '/cancel'), {
      body: { retentionDays: input.integer('retention-days') },
    })
    if (out.json) return out.printJson(body)
    const kept = body.retentionDays == null ? '' : `; data kept for ${body.retentionDays} days`
    out.success(`Tenant ${body.slug} canceled${kept}`)
  },
}

/**
 * `tenantctl delete <id> [--hard] [--force] [--yes]`: soft delete keeps the database; hard
 * delete drops it and asks to type the slug first (or needs --yes without a terminal).
 */
export const remove: Command = {
  name: 'delete',
  summary: 'Delete a tenant (--hard also drops its database and role)',
  args: ['<id>'],
  options: {
    hard: { type: 'boolean', description: 'drop the database and role (cannot be undone)' },
    force: { type: 'boolean', description: 'hard-delete even before the retention period has passed' },
    'skip-final-backup': { type: 'boolean', description: 'hard-delete without the final verified backup taken first (recorded in the audit log)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
  },
  details: 'A hard delete asks you to type the tenant slug; without a terminal it needs --yes. It takes a final verified backup first and drops nothing unless it verified.',
  async run(context, input) {
    const { api, out } = context
    const id = input.arg(0)
    const hard = input.flag('hard')
    if (hard && !input.flag('yes')) await confirmHardDelete(context, id)
    const { body } = await api.request<Tenant | { operationId: string }>('POST', tenantPath(id, '/delete'), {
      body: { hardDelete: hard, force: input.flag('force'), ...(input.flag('skip-final-backup') ? { skipFinalBackup: true } : {}) },
    })
    if ('operationId' in body) {
      if (!out.json) out.note(`Deleting tenant ${id} (operation ${body.operationId})`)
      const operation = await watchOperation(api, out, body.operationId)
      if (out.json) return out.printJson(operation)
    } else if (out.json) {
      return out.printJson(body)
    }
    const slug = 'slug' in body ? body.slug : id
    out.success(hard ? `Tenant ${slug} deleted; database and role dropped` : `Tenant ${slug} deleted (database kept)`)
  },
}

/** Asks to type the slug; refuses (exit 2) without a terminal or on a mismatch. */
async function confirmHardDelete({ api, terminal }: CommandContext, id: string): Promise<void> {
  if (!terminal.stdin.isTTY) {
    throw new UsageError('a hard delete drops the database and cannot be undone; refusing without confirmation', {
      hint: `run it on a terminal, or pass --yes: tenantctl delete ${id} --hard --yes`,
    })
  }
  const { body: tenant } = await api.request<Tenant>('GET', tenantPath(id))
  const answer = await askLine(
    terminal,
    `Hard delete drops database ${tenant.database ?? '(none)'} of tenant "${tenant.name}" for good.\n` +
      `Type the slug (${tenant.slug}) to confirm: `,
  )
  if (answer !== tenant.slug) throw new UsageError('confirmation did not match; nothing was deleted')
}

export const tenantLifecycle = [suspend, reactivate, cancel, remove]
