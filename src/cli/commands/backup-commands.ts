import type { Backup, Operation } from '../api-types.js'
import { CliError } from '../cli-error.js'
import type { Command, CommandGroup } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { formatTime, type Column } from '../table-format.js'
import { tenantPath } from './tenant-view.js'

/** 1536 → "1.5 KiB". */
function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

const backupColumns: Column<Backup>[] = [
  { header: 'ID', value: (b) => b.id },
  { header: 'CREATED', value: (b) => formatTime(b.createdAt) },
  { header: 'STATE', value: (b) => b.state },
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
  summary: 'Back up a tenant database now (encrypted, stored, verified)',
  args: ['<tenant>'],
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    const { body } = await api.request<{ backup: Backup; operationId: string }>('POST', backupPath(tenant))
    if (!out.json) out.note(`Backing up ${tenant} (backup ${body.backup.id}, operation ${body.operationId})`)
    const operation = await watchOperation(api, out, body.operationId)
    const { body: backup } = await api.request<Backup>('GET', backupPath(tenant, body.backup.id))
    if (out.json) return out.printJson({ backup, operation })
    out.success(`backup ${backup.id} of ${tenant} ${backup.state}: ${formatBytes(backup.sizeBytes)}, sha256 ${backup.sha256 ?? '-'}`)
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
  args: ['<tenant>', '<backupId>'],
  details: 'The tenant keeps serving from its current database until the restored one matched the recorded row counts. The previous database is kept, renamed <db>_pre_restore_<time>.',
  async run({ api, out }, input) {
    const [tenant, backupId] = [input.arg(0), input.arg(1)]
    const { body } = await api.request<{ operationId: string }>('POST', tenantPath(tenant, '/restore'), { body: { backupId } })
    if (!out.json) out.note(`Restoring ${tenant} from backup ${backupId} (operation ${body.operationId})`)
    const operation: Operation = await watchOperation(api, out, body.operationId)
    if (out.json) return out.printJson({ operationId: body.operationId, operation })
    out.success(`${tenant} restored from backup ${backupId}; the previous database is kept for undo`)
  },
}

export const backupGroup: CommandGroup = {
  name: 'backup',
  summary: 'Backups of tenant databases: run, list, show, verify',
  commands: [runBackup, listBackups, showBackup, verifyBackup],
  defaultCommand: 'list',
}
