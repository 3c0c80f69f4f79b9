import { setTimeout as sleep } from 'node:timers/promises'
import type { ApiClient } from '../api-client.js'
import type { Command, CommandGroup, CommandInput } from '../command.js'
import type { Output } from '../output.js'
import { ProgressBar } from '../progress-bar.js'
import { formatTime, type Column } from '../table-format.js'

/** How often a run is polled: quick enough to feel live, light on the server. */
const pollIntervalMs = 300
/** Above this many tenants the summary shows only the failed and drifted ones (unless --all). */
const fullTableLimit = 20

type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed'
type MigrationState = 'applied' | 'pending' | 'drift' | 'not_installed' | 'error'

interface RunTotals {
  total: number
  succeeded: number
  failed: number
  skipped: number
  pending: number
}

interface RunTenant {
  tenantId: string
  slug: string
  status: string
  applied: string[]
  drift: string[]
  pending: string[]
  error: string | null
  durationMs: number | null
}

interface MigrationRun {
  id: string
  operationId: string | null
  status: RunStatus
  dryRun: boolean
  totals: RunTotals
  error: string | null
  createdAt: string
  finishedAt: string | null
  tenants?: RunTenant[]
}

interface MigrationMatrix {
  migrations: string[]
  tenants: Array<{ id: string; slug: string; cells: Record<string, MigrationState>; error?: string }>
  summary: { tenants: number; upToDate: number; withPending: number; withDrift: number; withErrors: number }
}

const runPath = (id: string) => `/api/admin/migrations/runs/${encodeURIComponent(id)}`
const list = (names: string[]) => (names.length ? names.join(', ') : '')

/** `--tenants a,b` as a list (undefined when not given). */
function tenantList(input: CommandInput): string[] | undefined {
  const text = input.string('tenants')
  if (text === undefined) return undefined
  const names = text.split(',').map((s) => s.trim()).filter(Boolean)
  return names.length ? names : undefined
}

/** Polls a run until it ended, drawing "done/total tenants, failed count" on stderr. */
async function followRun(api: ApiClient, out: Output, runId: string): Promise<MigrationRun> {
  const bar = out.json ? undefined : new ProgressBar(out.stderr, out.interactive)
  const onInterrupt = () => {
    bar?.finish()
    out.error(`stopped watching; migration run ${runId} keeps running`, `tenantctl migrate show ${runId}`)
    process.exit(130)
  }
  process.once('SIGINT', onInterrupt)
  try {
    for (;;) {
      const { body: run } = await api.request<MigrationRun>('GET', runPath(runId))
      const { total, pending, failed } = run.totals
      const done = total - pending
      bar?.update(total === 0 ? 0 : (done / total) * 100, `${done}/${total} tenants, ${failed} failed`)
      if (run.status === 'succeeded' || run.status === 'failed') return run
      await sleep(pollIntervalMs)
    }
  } finally {
    bar?.finish()
    process.off('SIGINT', onInterrupt)
  }
}

function printRun(out: Output, run: MigrationRun, all: boolean): void {
  const rows = run.tenants ?? []
  const shown = all || rows.length <= fullTableLimit ? rows : rows.filter((r) => r.status !== 'succeeded' || r.drift.length > 0)
  const columns: Column<RunTenant>[] = [
    { header: 'SLUG', value: (r) => r.slug },
    { header: 'STATUS', value: (r) => r.status },
    run.dryRun ? { header: 'PENDING', value: (r) => list(r.pending) } : { header: 'APPLIED', value: (r) => list(r.applied) },
    { header: 'DRIFT', value: (r) => list(r.drift) },
    { header: 'ERROR', value: (r) => r.error },
  ]
  if (shown.length > 0) out.table(shown, columns)
  if (shown.length < rows.length) out.line(`(${rows.length - shown.length} succeeded tenants without drift not shown; --all shows every tenant)`)
  const { total, succeeded, failed, skipped } = run.totals
  const drifted = rows.filter((r) => r.drift.length > 0).length
  out.line(`${run.dryRun ? 'Dry run' : 'Run'} ${run.id}: ${total} tenants, ${succeeded} succeeded, ${failed} failed, ${skipped} skipped, ${drifted} with drift`)
}

/** Prints the run; exit 1 with the retry hint when any tenant failed. */
function finishRun(out: Output, run: MigrationRun, all: boolean): number {
  if (out.json) {
    out.printJson(run)
    return run.status === 'succeeded' ? 0 : 1
  }
  printRun(out, run, all)
  if (run.status === 'succeeded') {
    out.success(run.dryRun ? 'Dry run done: nothing was applied' : 'Every tenant is up to date')
    return 0
  }
  out.error(run.error ?? `migration run ${run.id} failed`, `tenantctl migrate ${run.dryRun ? '--dry-run ' : ''}--retry-failed ${run.id}`)
  return 1
}

/** `tenantctl migrate [--tenants a,b] [--concurrency n] [--canary n] [--dry-run] [--retry-failed <runId>]`. */
export const runMigrations: Command = {
  name: 'run',
  summary: 'Migrate tenant databases to the current migrations and follow the run',
  options: {
    tenants: { type: 'string', valueName: 'a,b', description: 'only these tenants (ids or slugs); default every active or suspended tenant' },
    concurrency: { type: 'string', valueName: 'n', description: 'tenant databases at once, 1-32 (default 4; each host also caps at its budget)' },
    canary: { type: 'string', valueName: 'n', description: 'migrate the first n tenants one at a time first; stop if one fails' },
    'dry-run': { type: 'boolean', description: 'show what each tenant lacks; apply nothing' },
    'retry-failed': { type: 'string', valueName: 'runId', description: 'run again only the failed (and skipped) tenants of that run' },
    all: { type: 'boolean', description: 'list every tenant in the summary, not only failed and drifted ones' },
  },
  details: '`tenantctl migrate` alone runs this. Exit code 1 when any tenant failed.',
  async run({ api, out }, input) {
    const body = {
      tenants: tenantList(input),
      concurrency: input.integer('concurrency', 1),
      canary: input.integer('canary', 0),
      dryRun: input.flag('dry-run') || undefined,
      retryFailedOf: input.string('retry-failed'),
    }
    const { body: started } = await api.request<{ runId: string; operationId: string }>('POST', '/api/admin/migrations/run', { body })
    if (!out.json) out.note(`Migration run ${started.runId} (operation ${started.operationId})`)
    const run = await followRun(api, out, started.runId)
    return finishRun(out, run, input.flag('all'))
  },
}

const stateSymbols: Record<MigrationState, string> = { applied: '✓', pending: '·', drift: '!', not_installed: '–', error: '✗' }

/** "base/0002_add_audit_column.sql" → "base/0002": columns stay narrow; the legend names them. */
const shortName = (migration: string) => migration.replace(/^(.*\/[^_/]+)_.*$/, '$1')

/** `tenantctl migrate status [--tenants a,b]`: the tenant × migration matrix. */
export const migrationStatus: Command = {
  name: 'status',
  summary: 'Show which migrations each tenant has (✓ applied, · pending, ! drift, – not installed, ✗ error)',
  options: {
    tenants: { type: 'string', valueName: 'a,b', description: 'only these tenants (ids or slugs)' },
    concurrency: { type: 'string', valueName: 'n', description: 'tenant databases read at once, 1-32 (default 4)' },
  },
  details: 'Exit code 1 when a tenant database could not be read.',
  async run({ api, out }, input) {
    const tenants = tenantList(input)
    const { body } = await api.request<MigrationMatrix>('GET', '/api/admin/migrations/status', {
      query: { tenants: tenants?.join(','), concurrency: input.integer('concurrency', 1) },
    })
    if (out.json) {
      out.printJson(body)
      return body.summary.withErrors > 0 ? 1 : 0
    }
    const columns: Column<MigrationMatrix['tenants'][number]>[] = [
      { header: 'SLUG', value: (r) => r.slug },
      ...body.migrations.map((m) => ({ header: shortName(m), value: (r: MigrationMatrix['tenants'][number]) => stateSymbols[r.cells[m] ?? 'error'] })),
    ]
    if (body.tenants.length > 0) out.table(body.tenants, columns)
    out.line(`Migrations: ${body.migrations.join(', ') || 'none'}`)
    out.line('✓ applied  · pending  ! drift (file changed after it was applied)  – module not installed  ✗ error')
    for (const row of body.tenants) if (row.error) out.line(`✗ ${row.slug}: ${row.error}`)
    const s = body.summary
    out.line(`${s.tenants} tenants: ${s.upToDate} up to date, ${s.withPending} with pending migrations, ${s.withDrift} with drift, ${s.withErrors} unreachable`)
    return s.withErrors > 0 ? 1 : 0
  },
}

const runColumns: Column<MigrationRun>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'STATUS', value: (r) => (r.dryRun ? `${r.status} (dry)` : r.status) },
  { header: 'TENANTS', value: (r) => r.totals.total, alignRight: true },
  { header: 'FAILED', value: (r) => r.totals.failed, alignRight: true },
  { header: 'SKIPPED', value: (r) => r.totals.skipped, alignRight: true },
  { header: 'CREATED', value: (r) => formatTime(r.createdAt) },
  { header: 'FINISHED', value: (r) => formatTime(r.finishedAt) },
]

/** `tenantctl migrate runs`: recent migration runs. */
export const listRuns: Command = {
  name: 'runs',
  summary: 'List migration runs, newest first',
  options: { limit: { type: 'string', valueName: 'n', description: 'at most n runs' } },
  async run({ api, out }, input) {
    const { body } = await api.request<{ items: MigrationRun[]; total: number }>('GET', '/api/admin/migrations/runs', { query: { limit: input.integer('limit', 1) } })
    if (out.json) return out.printJson(body)
    if (body.items.length > 0) out.table(body.items, runColumns)
    out.line(`${body.items.length} of ${body.total} migration runs`)
  },
}

/** `tenantctl migrate show <runId>`: one run with each tenant's outcome. */
export const showRun: Command = {
  name: 'show',
  summary: "Show a migration run and each tenant's outcome",
  args: ['<runId>'],
  options: { all: { type: 'boolean', description: 'list every tenant, not only failed and drifted ones' } },
  async run({ api, out }, input) {
    const { body: run } = await api.request<MigrationRun>('GET', runPath(input.arg(0)))
    if (run.status === 'pending' || run.status === 'running') {
      if (out.json) return out.printJson(run)
      printRun(out, run, input.flag('all'))
      return out.line(`Still ${run.status}; follow it with \`tenantctl migrate show ${run.id}\` again.`)
    }
    return finishRun(out, run, input.flag('all'))
  },
}

export const migrateGroup: CommandGroup = {
  name: 'migrate',
  summary: 'Tenant migrations across the fleet: run, status matrix, runs',
  commands: [runMigrations, migrationStatus, listRuns, showRun],
  defaultCommand: 'run',
}
