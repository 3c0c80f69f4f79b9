import { createHash } from 'node:crypto'
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { migrateTenantDatabase } from '../../src/migrations/tenant-migrator.js'
import { withTenantClient } from '../../src/tenancy/tenant-connection.js'
import type { Tenant } from '../../src/tenancy/tenant-directory.js'
import { startHarness } from '../helpers/harness.js'

// Fleet-wide tenant migrations against real PostgreSQL: 50 tenants, two of them broken on
// purpose; the run isolates them, reports them, and a retry of the failed ones finishes the
// job. Also: drift, dry runs, canaries, one run at a time, two runners on one database.

const repoMigrations = fileURLToPath(new URL('../../tenant-migrations/', import.meta.url))
const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-tenant-migrations-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
await cp(repoMigrations, dir, { recursive: true })
const baseDir = path.join(dir, 'base')

const h = await startHarness(t, { env: { TENANTD_TENANT_MIGRATIONS_DIR: dir } })

const slugs = Array.from({ length: 50 }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`)
const tenants = new Map<string, Tenant>()
{
  const queue = [...slugs]
  const started = Date.now()
  // Provisioned one after another per worker, so created_at follows the slug order closely.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let slug = queue.shift(); slug; slug = queue.shift()) tenants.set(slug, await h.provision({ name: `Fleet ${slug}`, slug }))
    })
  )
  t.comment(`provisioned ${slugs.length} tenants in ${Date.now() - started} ms`)
}

/** Runs SQL as the cluster superuser inside a tenant's database. */
const inTenant = (slug: string, text: string) => h.cluster.query(text, [], tenants.get(slug)!.database)

const run = async (payload: Record<string, unknown>) => {
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run?wait=true', payload })
  if (res.statusCode !== 200) throw new Error(`run failed to start: ${res.statusCode} ${res.body}`)
  return res.json()
}

interface RunTenant {
  slug: string
  status: string
  applied: string[]
  drift: string[]
  pending: string[]
  error: string | null
}

let firstRunId = ''

t.test('a new base migration reaches 48 tenants; 2 broken ones fail alone, visibly', async (t) => {
  for (const slug of ['fleet-07', 'fleet-33']) await inTenant(slug, 'create table notes (id int)')
  await writeFile(
    path.join(baseDir, '0002_add_audit_column.sql'),
    'alter table users add column last_seen_at timestamptz;\ncreate table notes (id bigint generated always as identity primary key, body text not null, created_at timestamptz not null default now());\n'
  )
  const started = Date.now()
  const result = await run({ concurrency: 8 })
  t.comment(`50 tenants at concurrency 8 (2 failing): ${Date.now() - started} ms`)
  firstRunId = result.id
  t.equal(result.status, 'failed', 'the run is red')
  t.same(result.totals, { total: 50, succeeded: 48, failed: 2, skipped: 0, pending: 0 })
  const failed = (result.tenants as RunTenant[]).filter((r) => r.status === 'failed')
  t.same(failed.map((r) => r.slug), ['fleet-07', 'fleet-33'])
  for (const row of failed) t.match(row.error, /base\/0002_add_audit_column\.sql failed: relation "notes" already exists/, `${row.slug} says why`)
  const ok = (result.tenants as RunTenant[]).find((r) => r.slug === 'fleet-08')!
  t.same(ok.applied, ['base/0002_add_audit_column.sql'])
  t.match(result.error, `2 of 50 tenants failed: fleet-07, fleet-33 — fix them and run \`tenantctl migrate --retry-failed ${result.id}\``)

  const op = await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${result.operationId}` })
  t.match(op.json(), { kind: 'migrate_fleet', status: 'failed', error: /2 of 50 tenants failed: fleet-07, fleet-33/ })

  const column = await inTenant('fleet-08', "select 1 from information_schema.columns where table_name = 'users' and column_name = 'last_seen_at'")
  t.equal(column.rowCount, 1, 'a good tenant got the column')
  const brokenColumn = await inTenant('fleet-07', "select 1 from information_schema.columns where table_name = 'users' and column_name = 'last_seen_at'")
  t.equal(brokenColumn.rowCount, 0, 'the broken tenant is left whole (its transaction rolled back)')

  const audit = await h.asAdmin({ method: 'GET', url: '/api/audit-logs' })
  t.ok(audit.json().items.some((e: { action: string; target: string }) => e.action === 'migrations.run' && e.target === result.id), 'the run is audited')

  const list = await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/runs' })
  t.match(list.json().items[0], { id: result.id, status: 'failed', totals: { failed: 2 } })
  const shown = await h.asAdmin({ method: 'GET', url: `/api/admin/migrations/runs/${result.id}` })
  t.equal(shown.json().tenants.length, 50)
  t.ok(shown.json().tenants.every((r: { durationMs: number | null }) => typeof r.durationMs === 'number'), 'every tenant has its duration')
})

t.test('fixed tenants succeed on retry-failed; the others are not touched again', async (t) => {
  for (const slug of ['fleet-07', 'fleet-33']) await inTenant(slug, 'drop table notes')
  const result = await run({ retryFailedOf: firstRunId })
  t.equal(result.status, 'succeeded', result.error ?? '')
  t.same(result.totals, { total: 2, succeeded: 2, failed: 0, skipped: 0, pending: 0 })
  t.same((result.tenants as RunTenant[]).map((r) => [r.slug, r.applied]), [
    ['fleet-07', ['base/0002_add_audit_column.sql']],
    ['fleet-33', ['base/0002_add_audit_column.sql']],
  ])
  const nothingLeft = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run', payload: { retryFailedOf: result.id } })
  t.equal(nothingLeft.statusCode, 409, 'a run without failures has nothing to retry')
})

t.test('status matrix: every tenant up to date; an unreachable database shows error', async (t) => {
  await h.cluster.query(`alter database ${tenants.get('fleet-20')!.database} connection limit 0`)
  t.teardown(() => h.cluster.query(`alter database ${tenants.get('fleet-20')!.database} connection limit -1`))
  const res = await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/status?concurrency=8' })
  t.equal(res.statusCode, 200)
  const matrix = res.json()
  const base = ['base/0001_base.sql', 'base/0002_add_audit_column.sql']
  const moduleColumns = (matrix.migrations as string[]).filter((m) => !m.startsWith('base/'))
  t.same(matrix.migrations, [...base, ...moduleColumns], 'base first, then the modules')
  t.equal(matrix.tenants.length, 50)
  t.match(matrix.summary, { tenants: 50, upToDate: 49, withErrors: 1, withPending: 0, withDrift: 0 })
  const broken = matrix.tenants.find((r: { slug: string }) => r.slug === 'fleet-20')
  t.same(broken.cells, Object.fromEntries(matrix.migrations.map((m: string) => [m, 'error'])))
  t.match(broken.error, /too many connections|not allowed|connection/i)
  const one = await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/status?tenants=fleet-01,fleet-02' })
  const upToDate = Object.fromEntries([...base.map((m) => [m, 'applied']), ...moduleColumns.map((m) => [m, 'not_installed'])])
  t.same(one.json().tenants.map((r: { slug: string; cells: unknown }) => [r.slug, r.cells]), [
    ['fleet-01', upToDate],
    ['fleet-02', upToDate],
  ], 'only the named tenants; modules not installed')
})

t.test('a dry run lists what each tenant lacks and applies nothing', async (t) => {
  await writeFile(path.join(baseDir, '0003_tags.sql'), 'create table tags (id int primary key, name text not null);\n')
  const result = await run({ dryRun: true, concurrency: 8 })
  t.equal(result.status, 'succeeded', result.error ?? '')
  t.equal(result.dryRun, true)
  t.ok((result.tenants as RunTenant[]).every((r) => r.status === 'succeeded' && r.applied.length === 0 && r.pending.join() === 'base/0003_tags.sql'), 'every tenant: 0003 pending, nothing applied')
  for (const slug of ['fleet-01', 'fleet-50']) {
    t.equal((await inTenant(slug, "select to_regclass('tags') as t")).rows[0]!.t, null, `${slug} has no tags table`)
    t.equal((await inTenant(slug, "select 1 from tenant_migrations where name = '0003_tags.sql'")).rowCount, 0)
  }
})

t.test('canary: one broken tenant among the first 3 stops the run; only one run at a time', async (t) => {
  await inTenant('fleet-12', 'create table tags (id int)')
  const selection = ['fleet-11', 'fleet-12', 'fleet-13', 'fleet-14', 'fleet-15']
  // Recorded but not started yet: a second run is refused while this one is open.
  const { run: first, operation } = await h.tenantd.migrations.requestRun({ tenants: selection, canary: 3 }, null)
  const second = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run', payload: {} })
  t.equal(second.statusCode, 409)
  t.match(second.json(), { error: 'OperationInProgress', message: new RegExp(`migration run ${first.id} is in progress`) })
  const dry = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run?wait=true', payload: { dryRun: true, tenants: ['fleet-01'] } })
  t.equal(dry.statusCode, 200, 'dry runs may overlap a run')

  await h.tenantd.operations.execute(operation.id)
  const result = (await h.asAdmin({ method: 'GET', url: `/api/admin/migrations/runs/${first.id}` })).json()
  t.equal(result.status, 'failed')
  t.same((result.tenants as RunTenant[]).map((r) => [r.slug, r.status]), [
    ['fleet-11', 'succeeded'],
    ['fleet-12', 'failed'],
    ['fleet-13', 'skipped'],
    ['fleet-14', 'skipped'],
    ['fleet-15', 'skipped'],
  ])
  t.match(result.error, /^canary tenant fleet-12 failed: .*already exists.*; run stopped, 3 tenants skipped/)
  t.equal((await inTenant('fleet-13', "select to_regclass('tags') as t")).rows[0]!.t, null, 'skipped tenants were not touched')

  await inTenant('fleet-12', 'drop table tags')
  const retried = await run({ retryFailedOf: first.id })
  t.same((retried.tenants as RunTenant[]).map((r) => [r.slug, r.status]), selection.slice(1).map((s) => [s, 'succeeded']), 'retry takes the failed and the skipped')
  const rest = await run({ concurrency: 8 })
  t.equal(rest.status, 'succeeded')
  t.equal((rest.tenants as RunTenant[]).filter((r) => r.applied.length > 0).length, 45, 'the rest of the fleet got 0003; the 5 done ones had nothing to do')
})

t.test('drift: a changed applied file is reported everywhere and never re-run', async (t) => {
  const file = path.join(baseDir, '0001_base.sql')
  const original = await readFile(file, 'utf8')
  t.teardown(() => writeFile(file, original))
  const before = (await inTenant('fleet-05', "select checksum from tenant_migrations where name = '0001_base.sql'")).rows[0]!.checksum
  await appendFile(file, '\n-- edited after it was applied\n')
  const matrix = (await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/status' })).json()
  t.ok(matrix.tenants.every((r: { cells: Record<string, string> }) => r.cells['base/0001_base.sql'] === 'drift'), 'drift for every tenant')
  t.equal(matrix.summary.withDrift, 50)
  const result = await run({ concurrency: 8 })
  t.equal(result.status, 'succeeded')
  t.ok((result.tenants as RunTenant[]).every((r) => r.drift.join() === 'base/0001_base.sql' && r.applied.length === 0), 'reported per tenant, nothing applied')
  const after = (await inTenant('fleet-05', "select checksum from tenant_migrations where name = '0001_base.sql'")).rows[0]!.checksum
  t.equal(after, before, 'the recorded checksum is untouched')
})

t.test('two runners on one tenant database at once apply a migration exactly once', async (t) => {
  const record = await h.tenantd.tenants.get('fleet-01')
  const sql = 'create table if not exists race_log (id serial primary key, at timestamptz not null default now());\ninsert into race_log default values;\n'
  const files = [{ name: '0001_race.sql', sql, checksum: createHash('sha256').update(sql).digest('hex') }]
  const results = await Promise.all(
    [1, 2].map(() => withTenantClient(record, h.tenantd.sealer, (client) => migrateTenantDatabase(client, 'race', files)))
  )
  t.same(results.map((r) => r.applied.length).sort(), [0, 1], 'one applied it, the other found it done')
  t.equal((await inTenant('fleet-01', 'select count(*)::int as n from race_log')).rows[0]!.n, 1, 'exactly one row')
  t.equal((await inTenant('fleet-01', "select count(*)::int as n from tenant_migrations where scope = 'race'")).rows[0]!.n, 1, 'exactly one record')
})

t.test('timings at concurrency 1, 4, 8; a host budget caps the fan-out', async (t) => {
  const maxOverlap = (rows: Array<{ tenantId: string }>, spans: Map<string, [number, number]>) => {
    const events = rows.flatMap((r) => {
      const [start, end] = spans.get(r.tenantId)!
      return [[start, 1], [end, -1]] as const
    }).sort((a, b) => a[0] - b[0] || a[1] - b[1])
    let now = 0
    let most = 0
    for (const [, delta] of events) most = Math.max(most, (now += delta))
    return most
  }
  const spansOf = async (runId: string) => {
    const rows = await h.tenantd.catalog.db.selectFrom('migration_run_tenants').select(['tenant_id', 'started_at', 'finished_at']).where('run_id', '=', runId).execute()
    return new Map(rows.map((r) => [r.tenant_id, [new Date(r.started_at!).getTime(), new Date(r.finished_at!).getTime()] as [number, number]]))
  }
  for (const [index, concurrency] of [1, 4, 8].entries()) {
    await writeFile(path.join(baseDir, `000${4 + index}_perf.sql`), `create table perf_${concurrency} (id int primary key, v text);\ncreate index on perf_${concurrency} (v);\n`)
    const started = Date.now()
    const result = await run({ concurrency })
    t.equal(result.status, 'succeeded')
    t.comment(`50 tenants, one new migration, concurrency ${concurrency}: ${Date.now() - started} ms`)
  }
  await h.tenantd.catalog.db.updateTable('db_hosts').set({ connection_budget: 2 }).execute()
  t.teardown(() => h.tenantd.catalog.db.updateTable('db_hosts').set({ connection_budget: 10 }).execute())
  await writeFile(path.join(baseDir, '0007_budget.sql'), 'create table budget_check (id int);\nselect pg_sleep(0.02);\n')
  const result = await run({ concurrency: 8 })
  t.equal(result.status, 'succeeded')
  const overlap = maxOverlap(result.tenants, await spansOf(result.id))
  t.ok(overlap <= 2, `at most 2 tenants of the host at once (saw ${overlap})`)
})

t.test('module scopes: a new module migration reaches only the tenants that have the module', async (t) => {
  const install = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/fleet-03/modules/crm?wait=true' })
  t.equal(install.statusCode, 200, install.body)
  await writeFile(path.join(dir, 'modules', 'crm', '0099_crm_tags.sql'), 'create table crm_tags (id int primary key, label text);\n')
  const result = await run({ concurrency: 8 })
  t.equal(result.status, 'succeeded', result.error ?? '')
  const applied = (result.tenants as RunTenant[]).filter((r) => r.applied.length > 0)
  t.same(applied.map((r) => [r.slug, r.applied]), [['fleet-03', ['crm/0099_crm_tags.sql']]])
  const matrix = (await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/status?tenants=fleet-03,fleet-04' })).json()
  const [withCrm, without] = matrix.tenants
  t.equal(withCrm.cells['crm/0099_crm_tags.sql'], 'applied')
  t.equal(withCrm.cells['crm/0001_crm.sql'], 'applied')
  t.equal(without.cells['crm/0099_crm_tags.sql'], 'not_installed')
})

t.test('input checks; a run without a body covers the fleet and answers 202 at once', async (t) => {
  const bad = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run', payload: { concurrency: 33 } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error, 'ValidationError')
  const unknown = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run', payload: { tenants: ['nobody-here'] } })
  t.match(unknown.json(), { error: 'TenantNotFound' })
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/migrations/runs/not-a-run' })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'GET', url: '/api/admin/migrations/status' })).statusCode, 401, 'needs a token')

  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/migrations/run' })
  t.equal(res.statusCode, 202, res.body)
  const { runId, operationId } = res.json()
  t.ok(runId && operationId)
  let run
  for (let i = 0; i < 100; i++) {
    run = (await h.asAdmin({ method: 'GET', url: `/api/admin/migrations/runs/${runId}` })).json()
    if (run.status === 'succeeded' || run.status === 'failed') break
    await new Promise((r) => setTimeout(r, 100))
  }
  t.match(run, { status: 'succeeded', totals: { total: 50, succeeded: 50 } })
})
