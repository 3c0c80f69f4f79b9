import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { tenantMigrationsDir } from '../../src/migrations/tenant-migrator.js'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'

// Issue 3's "done when", as an operator types it: `tenantctl modules install santarita
// price-basket` makes cp_* tables appear and the module answer on santarita only; `tenantctl
// migrate` over a fleet shows progress and an honest summary.

const migrations = await mkdtemp(path.join(tmpdir(), 'tenantd-e2e-migrations-'))
t.teardown(() => rm(migrations, { recursive: true, force: true }))
await cp(tenantMigrationsDir, migrations, { recursive: true })
const h = await startHarness(t, { env: { TENANTD_TENANT_MIGRATIONS_DIR: migrations } })
const cli = await tenantctlAgainst(h, t)
const url = cli.url
const tenantctl = cli.run
const show = showRun

await h.provision({ name: 'Santa Rita', slug: 'santarita', adminEmail: 'admin@santarita.test', adminPassword: 'santarita-pass' })
await h.provision({ name: 'Pirapora', slug: 'pirapora', adminEmail: 'admin@pirapora.test', adminPassword: 'pirapora-pass' })
await h.provision({ name: 'Nova Roma', slug: 'novaroma' })
const login = await tenantctl(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
if (login.code !== 0) throw new Error(show(login))

t.test('tenantctl modules install santarita price-basket', async (t) => {
  const install = await tenantctl(['modules', 'install', 'santarita', 'price-basket'])
  t.equal(install.code, 0, show(install))
  t.match(install.stdout + install.stderr, /price-basket installed on santarita/)
  const tables = await h.cluster.query<{ tablename: string }>("select tablename from pg_tables where tablename like 'cp\\_%' order by 1", [], 'tenant_santarita')
  t.same(tables.rows.map((r) => r.tablename), ['cp_fornecedores', 'cp_orcamento_itens', 'cp_orcamentos'], 'cp_* tables appear in tenant_santarita')
  const none = await h.cluster.query("select 1 from pg_tables where tablename like 'cp\\_%'", [], 'tenant_pirapora')
  t.equal(none.rowCount, 0, 'and nowhere else')

  const listed = await tenantctl(['modules', 'list', 'santarita'])
  t.match(listed.stdout, /price-basket\s+1\.0\.0/)

  const santarita = (await h.login('admin@santarita.test', 'santarita-pass', { host: 'santarita.localhost' })).accessToken
  const pirapora = (await h.login('admin@pirapora.test', 'pirapora-pass', { host: 'pirapora.localhost' })).accessToken
  const onSantarita = await fetch(`${url}/api/price-basket/quotes`, { headers: { host: 'santarita.localhost', authorization: `Bearer ${santarita}` } })
  t.equal(onSantarita.status, 200, 'the module answers on santarita')
  const onPirapora = await fetch(`${url}/api/price-basket/quotes`, { headers: { host: 'pirapora.localhost', authorization: `Bearer ${pirapora}` } })
  t.equal(onPirapora.status, 404)
  t.match(await onPirapora.json(), { error: 'ModuleNotInstalled', message: /tenantctl modules install pirapora price-basket/ })
})

t.test('tenantctl migrate: progress and an honest summary', async (t) => {
  await writeFile(path.join(migrations, 'base', '0002_notes.sql'), 'create table notes (id serial primary key, body text not null);\n')
  // Break one tenant on purpose: the table the migration creates is already there.
  await h.cluster.query('create table notes (other text)', [], 'tenant_novaroma')
  const dry = await tenantctl(['migrate', '--dry-run'])
  t.equal(dry.code, 0, show(dry))
  t.equal((await h.cluster.query("select 1 from pg_tables where tablename = 'notes'", [], 'tenant_santarita')).rowCount, 0, 'a dry run applies nothing')

  const run = await tenantctl(['migrate', '--concurrency', '2'])
  t.equal(run.code, 1, 'one tenant failed, so the command fails')
  t.match(run.stderr + run.stdout, /3\/3 tenants, 1 failed/, 'the progress line counts tenants and failures')
  t.match(run.stdout + run.stderr, /novaroma\s+failed.*already exists/, 'the broken tenant is named with its error')
  t.match(run.stdout + run.stderr, /--retry-failed/, 'and the way out is shown')
  for (const db of ['tenant_santarita', 'tenant_pirapora']) {
    t.equal((await h.cluster.query("select 1 from pg_tables where tablename = 'notes'", [], db)).rowCount, 1, `${db} migrated`)
  }

  const status = await tenantctl(['migrate', 'status'])
  t.match(status.stdout, /base\/0002/)
  t.match(status.stdout, /novaroma\s+✓\s+·/, 'the status matrix shows novaroma still pending')

  await h.cluster.query('drop table notes', [], 'tenant_novaroma')
  const runId = /migrate --retry-failed ([0-9a-f-]{36})/.exec(run.stdout + run.stderr)?.[1]
  t.ok(runId, 'the hint carries the run id')
  const retry = await tenantctl(['migrate', '--retry-failed', runId!])
  t.equal(retry.code, 0, show(retry))
  t.match(retry.stdout + retry.stderr, /1 succeeded, 0 failed/)
})

t.test('tenantctl stats: runbook 003 monitor script', async (t) => {
  const santarita = (await h.login('admin@santarita.test', 'santarita-pass', { host: 'santarita.localhost' })).accessToken
  for (const name of ['Fornecedor A', 'Fornecedor B']) {
    const res = await fetch(`${url}/api/price-basket/suppliers`, { method: 'POST', headers: { host: 'santarita.localhost', authorization: `Bearer ${santarita}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
    t.equal(res.status, 201)
  }
  const one = await tenantctl(['stats', 'santarita'])
  t.equal(one.code, 0, show(one))
  t.match(one.stdout, /Database:\s+tenant_santarita/)
  t.match(one.stdout, /Size:\s+\d+ (kB|MB)/)
  t.match(one.stdout, /cp_fornecedores\s+2/, 'exact row counts per table')
  const json = JSON.parse((await tenantctl(['stats', 'santarita', '--json'])).stdout)
  t.match(json, { slug: 'santarita', connectionLimit: 5 })
  t.ok(json.sizeBytes > 1_000_000)
  const all = await tenantctl(['stats'])
  t.equal(all.code, 0, show(all))
  for (const slug of ['santarita', 'pirapora', 'novaroma']) t.match(all.stdout, new RegExp(`${slug}\\s+\\d+ (kB|MB)`))
})

t.test('tenantctl operators: a tenant admin for santarita', async (t) => {
  const add = await tenantctl(['operators', 'add', '--email', 'ops@santarita.test', '--role', 'tenant_admin', '--tenant', 'santarita'], { TENANTCTL_OPERATOR_PASSWORD: 'santarita-ops-pass' })
  t.equal(add.code, 0, show(add))
  t.match(add.stdout + add.stderr, /ops@santarita\.test created \(tenant_admin of santarita\)/)
  t.notOk((add.stdout + add.stderr).includes('santarita-ops-pass'))
  const list = await tenantctl(['operators', 'list'])
  t.match(list.stdout, /ops@santarita\.test\s+tenant_admin\s+santarita/)
  const login = await h.login('ops@santarita.test', 'santarita-ops-pass')
  t.ok(login.accessToken, 'the new operator logs in')
})
