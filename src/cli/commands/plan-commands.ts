import type { Plan } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command, CommandGroup } from '../command.js'

const unlimited = (n: number | null) => (n === null ? 'unlimited' : String(n))

/** `tenantctl plans`: limits, backup schedule and retention of every plan. */
export const listPlans: Command = {
  name: 'list',
  summary: 'Plans with their limits, backup schedule and retention',
  async run({ api, out }) {
    const { body } = await api.request<{ items: Plan[] }>('GET', '/api/admin/plans')
    if (out.json) return out.printJson(body)
    out.table(body.items, [
      { header: 'PLAN', value: (p) => p.id },
      { header: 'NAME', value: (p) => p.name },
      { header: 'TENANTS', value: (p) => String(p.tenantCount), alignRight: true },
      { header: 'CONNECTIONS', value: (p) => String(p.maxConnections), alignRight: true },
      { header: 'USERS', value: (p) => unlimited(p.maxUsers), alignRight: true },
      { header: 'STORAGE MB', value: (p) => unlimited(p.storageMb), alignRight: true },
      { header: 'BACKUPS', value: (p) => p.backup.schedule ?? 'default' },
      { header: 'KEEP', value: (p) => `${p.backup.retentionDays}d + ${p.backup.keepDaily}/${p.backup.keepWeekly}/${p.backup.keepMonthly}` },
      { header: 'ROTATE', value: (p) => (p.credentialRotationDays === null ? 'never' : `${p.credentialRotationDays}d`) },
    ])
    out.note('KEEP: every backup younger than the days, then the newest of each of the last N days / ISO weeks / months')
  },
}

/** `tenantctl plans update <plan> --backup-schedule "0 3 * * *" --keep-daily 14 ...` */
export const updatePlan: Command = {
  name: 'update',
  summary: "Change a plan's name, limits or backup policy",
  args: ['<plan>'],
  options: {
    name: { type: 'string', valueName: 'name', description: 'display name' },
    'max-users': { type: 'string', valueName: 'n|unlimited', description: 'users a tenant may have' },
    'storage-mb': { type: 'string', valueName: 'n|unlimited', description: 'database size a tenant may reach' },
    'backup-schedule': { type: 'string', valueName: 'cron|default', description: 'when its tenants are backed up, e.g. "0 3 * * *"; default: TENANTD_BACKUP_SCHEDULE' },
    'retention-days': { type: 'string', valueName: 'days', description: 'backups younger than this are always kept' },
    'keep-daily': { type: 'string', valueName: 'n', description: 'newest backup of each of the last n days kept' },
    'keep-weekly': { type: 'string', valueName: 'n', description: '... of each of the last n ISO weeks' },
    'keep-monthly': { type: 'string', valueName: 'n', description: '... of each of the last n months' },
    'rotate-every-days': { type: 'string', valueName: 'days|never', description: "rotate its tenants' database credentials every n days" },
  },
  async run({ api, out }, input) {
    const plan = input.arg(0)!
    const limit = (option: string) => {
      const raw = input.string(option)
      if (raw === undefined) return undefined
      if (raw === 'unlimited') return null
      return input.integer(option, 1)
    }
    const schedule = input.string('backup-schedule')
    const body = Object.fromEntries(
      Object.entries({
        name: input.string('name'),
        maxUsers: limit('max-users'),
        storageMb: limit('storage-mb'),
        backupSchedule: schedule === undefined ? undefined : schedule === 'default' ? null : schedule,
        backupRetentionDays: input.integer('retention-days', 1),
        backupKeepDaily: input.integer('keep-daily', 0),
        backupKeepWeekly: input.integer('keep-weekly', 0),
        backupKeepMonthly: input.integer('keep-monthly', 0),
        credentialRotationDays: input.string('rotate-every-days') === 'never' ? null : input.integer('rotate-every-days', 1),
      }).filter(([, value]) => value !== undefined)
    )
    if (Object.keys(body).length === 0) throw new UsageError('give at least one change, e.g. --backup-schedule "0 3 * * *" or --keep-daily 14', { hint: 'tenantctl help plans update' })
    const { body: updated } = await api.request<Plan>('PATCH', `/api/admin/plans/${encodeURIComponent(plan)}`, { body })
    if (out.json) return out.printJson(updated)
    out.success(
      `plan ${updated.id}: backups ${updated.backup.schedule ?? 'on the default schedule'}, kept ${updated.backup.retentionDays} days then ${updated.backup.keepDaily} daily / ${updated.backup.keepWeekly} weekly / ${updated.backup.keepMonthly} monthly`
    )
  },
}

export const plansGroup: CommandGroup = {
  name: 'plans',
  summary: 'Plans: limits, backup schedule and retention',
  commands: [listPlans, updatePlan],
  defaultCommand: 'list',
}
