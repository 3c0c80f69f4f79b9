import type { Backup, BackupScheduleStatus, Operation, PruneBackupsResult, SlotResult, Tenant } from '../api-types.js'
import { CliError, UsageError } from '../cli-error.js'
import type { Command, CommandGroup } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { formatBytes, formatTime, type Column } from '../table-format.js'
import { tenantPath } from './tenant-view.js'


const backupColumns: Column<Backup>[] = [
  { header: 'ID', value: (b) => b.id },
  { header: 'CREATED', value: (b) => formatTime(b.createdAt) },
  { header: 'STATE', value: (b) => b.state },
  { header: 'WHY', value: (b) => b.reason },
  { header: 'SIZE', value: (b) => formatBytes(b.sizeBytes) },
  { header: 'SHA-256', value: (b) => (b.sha256 ? `${b.sha256.slice(0, 12)}…` : '-') },
  { header: 'ERROR', value: (b) => b.error ?? '' },
]

const backupPath = (tenant: string, backupId = '') => tenantPath(tenant, `/backups${backupId ? `/${encodeURIComponent(backupId)}` : ''}`)

function printBackup(out: Parameters<Command['run']>[0]['out'], b: Backup): void {
  out.keyValues([
    ['id', b.id],
    ['state', b.state],
    ['error', b.error ?? ''],
    ['database', b.database],
    ['created', formatTime(b.createdAt)],
    ['verified', formatTime(b.verifiedAt)],
    ['taken', b.reason === 'scheduled' ? `by the schedule (slot ${formatTime(b.slotAt)})` : b.reason === 'final' ? 'before a hard delete (final)' : 'on request'],
    ['test restore', b.testRestoredAt ? `${formatTime(b.testRestoredAt)}${b.testRestoreError ? `: ${b.testRestoreError}` : ': row counts matched'}` : 'not yet'],
    ['size', `${formatBytes(b.sizeBytes)} stored, ${formatBytes(b.dumpBytes)} dump`],
    ['sha256', b.sha256 ?? '-'],
    ['stored at', `${b.storageTarget}/${b.storageKey}`],
    ['versions', `PostgreSQL ${b.serverVersion ?? '?'}, pg_dump ${b.pgDumpVersion ?? '?'}, tenantd ${b.tenantdVersion}`],
    ['migrations', (b.migrations ?? []).map((m) => `${m.scope}/${m.name}`).join(', ')],
  ])
  const counts = Object.entries(b.rowCounts ?? {})
  if (counts.length) {
    out.line()
    out.table(counts, [
      { header: 'TABLE', value: ([name]) => name },
      { header: 'ROWS', value: ([, rows]) => String(rows) },
    ])
  }
}

/** `tenantctl backup run <tenant>`: backs up now, with a progress bar, and shows the result. */
export const runBackup: Command = {
  name: 'run',
  summary: 'Back up a tenant database now (encrypted, stored, verified); --all: every active tenant',
  args: ['[tenant]'],
  options: { all: { type: 'boolean', description: 'back up every active tenant now, with the schedule\'s bounds and retries' } },
  async run(context, input) {
    const { api, out } = context
    if (input.flag('all')) return runFleetBackup(context)
    const tenant = input.arg(0)
    if (!tenant) throw new UsageError('name the tenant to back up, or give --all for every active tenant')
    const { body } = await api.request<{ backup: Backup; operationId: string }>('POST', backupPath(tenant))
    if (!out.json) out.note(`Backing up ${tenant} (backup ${body.backup.id}, operation ${body.operationId})`)
    const operation = await watchOperation(api, out, body.operationId)
    const { body: backup } = await api.request<Backup>('GET', backupPath(tenant, body.backup.id))
    if (out.json) return out.printJson({ backup, operation })
    out.success(`backup ${backup.id} of ${tenant} ${backup.state}: ${formatBytes(backup.sizeBytes)}, sha256 ${backup.sha256 ?? '-'}`)
  },
}

/** `tenantctl backup run --all`: a fleet backup now; a table of the tenants that failed, a line of totals. */
async function runFleetBackup({ api, out }: Parameters<Command['run']>[0]): Promise<number | void> {
  if (!out.json) out.note('Backing up every active tenant (this waits until the last one is verified)')
  const { body } = await api.request<SlotResult>('POST', '/api/admin/backups/run-all?wait=true')
  if (out.json) return out.printJson(body)
  if (body.failed.length) {
    out.table(body.failed, [
      { header: 'TENANT', value: (f) => f.tenant },
      { header: 'ERROR', value: (f) => f.error },
    ])
  }
  const line = `${body.backedUp} of ${body.tenants} tenants backed up and verified, ${body.testRestored} test-restored`
  if (body.failed.length) {
    out.line(`${line}; ${body.failed.length} failed (see \`tenantctl backup list <tenant>\`)`)
    return 1
  }
  out.success(line)
}

/** `tenantctl backup schedule`: the schedules, their next runs and the latest slots. */
export const showSchedule: Command = {
  name: 'schedule',
  summary: 'When tenants are backed up (default and per plan), and how the latest slots went',
  async run({ api, out }) {
    const { body } = await api.request<BackupScheduleStatus>('GET', '/api/admin/backups/schedule')
    if (out.json) return out.printJson(body)
    out.keyValues([
      ['time zone', body.timezone],
      ['concurrency', `${body.concurrency} at once, ${body.hostConcurrency} per db host`],
    ])
    out.line()
    if (body.schedules.length === 0) out.line('No schedule: TENANTD_BACKUP_SCHEDULE is off and no plan has its own.')
    else
      out.table(body.schedules, [
        { header: 'SCHEDULE', value: (s) => s.cron },
        { header: 'PLANS', value: (s) => s.plans.join(', ') },
        { header: 'NEXT RUN', value: (s) => formatTime(s.nextRunAt) },
      ])
    if (body.recentSlots.length) {
      out.line()
      out.table(body.recentSlots, [
        { header: 'SLOT', value: (s) => formatTime(s.slotAt) },
        { header: 'SCHEDULE', value: (s) => s.schedule },
        { header: 'TENANTS', value: (s) => String(s.tenants), alignRight: true },
        { header: 'FAILED', value: (s) => String(s.failed), alignRight: true },
        { header: 'FINISHED', value: (s) => (s.finishedAt ? formatTime(s.finishedAt) : 'running') },
        { header: 'REPLICA', value: (s) => s.claimedBy },
      ])
    }
  },
}

/** `tenantctl backup list <tenant>`: newest first, with size, checksum and state. */
export const listBackups: Command = {
  name: 'list',
  summary: 'List the backups of a tenant',
  args: ['<tenant>'],
  options: { limit: { type: 'string', valueName: 'n', description: 'at most n backups (default 50)' } },
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const limit = input.integer('limit', 1)
    const { body } = await api.request<{ items: Backup[]; total: number }>('GET', backupPath(tenant), limit ? { query: { limit } } : {})
    if (out.json) return out.printJson(body)
    if (body.items.length === 0) return out.line(`No backups of ${tenant} yet. Take one with \`tenantctl backup run ${tenant}\`.`)
    out.table(body.items, backupColumns)
  },
}

interface RestoreItem {
  backupId: string
  previousDatabase: string
  restoredAt: string
  keptUntil: string
  previousDroppedAt: string | null
  undoable: boolean
}

/** `tenantctl backup restores <tenant>`: its restores, and whether the last can still be undone. */
export const listRestores: Command = {
  name: 'restores',
  summary: 'List the restores of a tenant, and until when the last one can be undone',
  args: ['<tenant>'],
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const { body } = await api.request<{ items: RestoreItem[]; keepHours: number }>('GET', tenantPath(tenant, '/restores'))
    if (out.json) return out.printJson(body)
    if (body.items.length === 0) return out.line(`${tenant} was never restored.`)
    out.table(body.items, [
      { header: 'RESTORED', value: (r) => formatTime(r.restoredAt) },
      { header: 'BACKUP', value: (r) => r.backupId },
      { header: 'KEPT DATABASE', value: (r) => r.previousDatabase },
      { header: 'KEPT UNTIL', value: (r) => (r.previousDroppedAt ? `dropped ${formatTime(r.previousDroppedAt)}` : formatTime(r.keptUntil)) },
      { header: 'UNDO', value: (r) => (r.undoable ? `tenantctl restore ${tenant} --undo` : '-') },
    ])
  },
}

/** `tenantctl backup show <tenant> <backupId>`: everything recorded, row counts included. */
export const showBackup: Command = {
  name: 'show',
  summary: 'Show one backup: state, checksum, versions, migrations, row counts',
  args: ['<tenant>', '<backupId>'],
  async run({ api, out }, input) {
    const { body } = await api.request<Backup>('GET', backupPath(input.arg(0), input.arg(1)))
    if (out.json) return out.printJson(body)
    printBackup(out, body)
  },
}

/** `tenantctl backup verify <tenant> <backupId>`: reads it back and checks it; exit 1 when damaged. */
export const verifyBackup: Command = {
  name: 'verify',
  summary: 'Read a backup back and check checksum, encryption and pg_restore --list',
  args: ['<tenant>', '<backupId>'],
  async run({ api, out }, input) {
    const [tenant, backupId] = [input.arg(0), input.arg(1)]
    const { body } = await api.request<{ ok: boolean; reason?: string; backup: Backup }>('POST', `${backupPath(tenant, backupId)}/verify`)
    if (out.json) {
      out.printJson(body)
      return body.ok ? undefined : 1
    }
    if (!body.ok) throw new CliError(`backup ${backupId} of ${tenant} is damaged: ${body.reason ?? 'unknown reason'}; it will not be offered for restore`, { hint: `tenantctl backup list ${tenant}` })
    out.success(`backup ${backupId} of ${tenant} verified`)
  },
}

/** `tenantctl restore <tenant> <backupId>`: restores into a new database and swaps it in. */
export const restore: Command = {
  name: 'restore',
  summary: 'Restore a verified backup (new database, row counts compared, then swapped in; the old one is kept)',
  args: ['<tenant>', '[backupId]'],
  options: {
    undo: { type: 'boolean', description: 'swap back the database the last restore kept (while TENANTD_RESTORE_KEEP_HOURS last)' },
    'as-new': { type: 'string', valueName: 'slug', description: 'restore as a new tenant with this slug (a clone); the tenant itself is not touched' },
    subdomain: { type: 'string', valueName: 'name', description: "with --as-new: the clone's subdomain (default: its slug)" },
    name: { type: 'string', valueName: 'text', description: 'with --as-new: the clone\'s display name (default: "<name> (copy)")' },
  },
  details: 'The tenant keeps serving from its current database until the restored one matched the recorded row counts; during the swap it answers 503 with Retry-After. The previous database is kept, renamed <db>_pre_restore_<time>, for `restore <tenant> --undo`.',
  async run({ api, out }, input) {
    const [tenant, backupId] = [input.arg(0), input.arg(1)]
    if (input.flag('undo')) {
      if (backupId) throw new UsageError('--undo takes no backupId: it undoes the last restore', { hint: 'tenantctl help restore' })
      const { body: undo } = await api.request<{ operationId: string }>('POST', tenantPath(tenant, '/restore/undo'))
      if (!out.json) out.note(`Undoing the last restore of ${tenant} (operation ${undo.operationId})`)
      const undone: Operation = await watchOperation(api, out, undo.operationId)
      if (out.json) return out.printJson({ operationId: undo.operationId, operation: undone })
      return out.success(`${tenant} is back on the database it had before its last restore; the restored one is kept in its place`)
    }
    if (!backupId) throw new UsageError('missing <backupId> (or --undo)', { hint: `tenantctl backup list ${tenant}` })
    const asNew = input.string('as-new')
    if (asNew !== undefined) {
      // A clone: a new tenant filled from the backup; the source tenant is not touched.
      const asNewTenant = { slug: asNew, ...(input.string('subdomain') ? { subdomain: input.string('subdomain') } : {}), ...(input.string('name') ? { name: input.string('name') } : {}) }
      const { body: clone } = await api.request<{ tenant: Tenant; operationId: string }>('POST', tenantPath(tenant, '/restore'), { body: { backupId, asNewTenant } })
      if (!out.json) out.note(`Cloning ${tenant} from backup ${backupId} as new tenant ${clone.tenant.slug} (operation ${clone.operationId})`)
      const cloned: Operation = await watchOperation(api, out, clone.operationId)
      if (out.json) return out.printJson({ tenant: clone.tenant, operationId: clone.operationId, operation: cloned })
      return out.success(`tenant ${clone.tenant.slug} created from backup ${backupId} of ${tenant}; row counts matched`)
    }
    if (input.string('subdomain') !== undefined || input.string('name') !== undefined) throw new UsageError('--subdomain and --name go with --as-new <slug>', { hint: 'tenantctl help restore' })
    const { body } = await api.request<{ operationId: string }>('POST', tenantPath(tenant, '/restore'), { body: { backupId } })
    if (!out.json) out.note(`Restoring ${tenant} from backup ${backupId} (operation ${body.operationId})`)
    const operation: Operation = await watchOperation(api, out, body.operationId)
    if (out.json) return out.printJson({ operationId: body.operationId, operation })
    out.success(`${tenant} restored from backup ${backupId}; the previous database is kept for undo`)
  },
}

/** `tenantctl backup prune [tenant] [--dry-run]`: applies the plans' retention; one line of totals last. */
export const pruneBackups: Command = {
  name: 'prune',
  summary: "Delete the backups the plans' retention lets go (every tenant, or one)",
  args: ['[tenant]'],
  options: { 'dry-run': { type: 'boolean', description: 'show what would be pruned and why; delete nothing' } },
  details: "Kept: backups younger than the plan's retention days, the newest verified one of each of the last N days, ISO weeks and months, and always a tenant's newest verified backup.",
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const dryRun = input.flag('dry-run')
    const { body } = await api.request<PruneBackupsResult>('POST', '/api/admin/backups/prune', { body: { ...(tenant ? { tenant } : {}), dryRun } })
    if (out.json) return out.printJson(body)
    if (body.items.length) {
      out.table(body.items, [
        { header: 'BACKUP', value: (b) => b.backupId },
        { header: 'TENANT', value: (b) => b.tenantSlug },
        { header: 'CREATED', value: (b) => formatTime(b.createdAt) },
        { header: 'STATE', value: (b) => b.state },
        { header: 'SIZE', value: (b) => formatBytes(b.sizeBytes), alignRight: true },
        { header: 'WHY', value: (b) => b.reason },
      ])
    }
    const count = `${body.prunedCount} backup${body.prunedCount === 1 ? '' : 's'}`
    out.line(body.dryRun ? `would prune ${count} (${formatBytes(body.freedBytes)})` : `pruned ${count}, freed ${formatBytes(body.freedBytes)}`)
  },
}

export const backupGroup: CommandGroup = {
  name: 'backup',
  summary: 'Backups of tenant databases: run, list, show, verify, restores, prune, schedule',
  commands: [runBackup, listBackups, showBackup, verifyBackup, listRestores, pruneBackups, showSchedule],
  defaultCommand: 'list',
}
