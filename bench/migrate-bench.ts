/**
 * `npm run bench:migrate`: how fast tenantd creates tenants and keeps a fleet migrated.
 *
 * 1. Provisioning, one tenant at a time (per-tenant latency), three ways on one cluster:
 *      template  tenantd cloning the host's template database (CREATE DATABASE ... TEMPLATE)
 *      scratch   tenantd creating from template0 and running the base migrations
 *      psql      the runbook's by-hand way: psql -c CREATE ROLE / CREATE DATABASE / REVOKE,
 *                then psql -f base.sql as the tenant role (no catalog, no operation record)
 *    and the template path again at concurrency 4 to fill the fleet.
 * 2. A fleet of BENCH_TENANTS tenants (default 200) gets one new base migration, three times,
 *    at concurrency 1, 4 and 8 (a new migration each time), through FleetMigrator; baseline:
 *    the same SQL file through psql, one database after another.
 *
 * Prints tenants per second and the ratios. Environment: BENCH_TENANTS, BENCH_PROVISION
 * (tenants per provisioning variant, default 20).
 */
import { execa } from 'execa'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { loadConfig } from '../src/config.js'
import { loggerOptions, pino } from '../src/logger.js'
import { tenantMigrationsDir } from '../src/migrations/tenant-migrator.js'
import { SecretSealer } from '../src/secrets/secret-sealer.js'
import { startTenantd, type Tenantd } from '../src/tenantd.js'
import { startTestCluster, type TestCluster } from '../test/helpers/cluster.js'

const FLEET = Number(process.env.BENCH_TENANTS ?? 200)
const PROVISION = Number(process.env.BENCH_PROVISION ?? 20)
const PG_BIN = process.env.TENANTD_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'

const say = (line: string) => process.stdout.write(`${line}\n`)
const teardowns: Array<() => unknown> = []

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    say('bench:migrate: watchdog (600 s) fired; giving up')
    process.exit(1)
  }, 600_000)
  watchdog.unref()
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-bench-migrations-'))
  teardowns.push(() => rm(dir, { recursive: true, force: true }))
  await cp(tenantMigrationsDir, dir, { recursive: true })

  const cluster = await startTestCluster({ teardown: (fn) => teardowns.push(fn) }, { maxConnections: 300 })
  const admin = await cluster.createAdminRole('tenantd_bench_admin')
  const template = await startInstance(cluster, admin, 'catalog_template', { TENANTD_TENANT_MIGRATIONS_DIR: dir })
  const scratch = await startInstance(cluster, admin, 'catalog_scratch', { TENANTD_TENANT_MIGRATIONS_DIR: dir, TENANTD_PROVISION_TEMPLATE: 'false' })

  say(`bench:migrate on ${(await execa('nproc')).stdout.trim()} cores, node ${process.version}, PostgreSQL 15 (embedded, fsync off)`)
  say('')
  say(`provisioning, one tenant at a time (${PROVISION} tenants each):`)
  await provision(template, 'warm', 1, 1) // creates the host's template once, outside the timing
  const tpl = await timeProvision(template, 'tpl', PROVISION, 1)
  const scr = await timeProvision(scratch, 'scr', PROVISION, 1)
  const raw = await timePsqlProvision(cluster, admin, dir, PROVISION)
  table(
    ['path', 'tenants/s', 'ms per tenant (median)', 'p95 ms'],
    [
      ['template clone', tpl.perSecond.toFixed(2), tpl.median.toFixed(0), tpl.p95.toFixed(0)],
      ['from scratch', scr.perSecond.toFixed(2), scr.median.toFixed(0), scr.p95.toFixed(0)],
      ['psql by hand', raw.perSecond.toFixed(2), raw.median.toFixed(0), raw.p95.toFixed(0)],
    ]
  )
  say(`ratio template/scratch (tenants/s): ${(tpl.perSecond / scr.perSecond).toFixed(2)}   goal >= 2 ${tpl.perSecond / scr.perSecond >= 2 ? 'MET' : 'MISSED'}`)
  say(`ratio template/psql (tenants/s):    ${(tpl.perSecond / raw.perSecond).toFixed(2)}`)

  const remaining = FLEET - PROVISION - 1
  const fill = performance.now()
  await provision(template, 'fleet', remaining, 4)
  const fillSeconds = (performance.now() - fill) / 1000
  say(`filled the fleet: ${remaining} more tenants at concurrency 4 in ${fillSeconds.toFixed(1)} s (${(remaining / fillSeconds).toFixed(1)} tenants/s)`)
  const fleet = (await template.tenants.list({ limit: 10_000 })).items
  say('')
  say(`one new base migration applied to all ${fleet.length} tenants:`)
  const rows: string[][] = []
  let serial = 0
  for (const [index, concurrency] of [1, 4, 8].entries()) {
    const name = `${String(index + 2).padStart(4, '0')}_bench_${concurrency}.sql`
    await writeFile(path.join(dir, 'base', name), migrationSql(index))
    const started = performance.now()
    const { run, operation } = await template.migrations.requestRun({ concurrency })
    const done = await template.operations.execute(operation.id)
    const seconds = (performance.now() - started) / 1000
    const result = await template.migrations.getRun(run.id)
    if (done.status !== 'succeeded' || result.totals.succeeded !== fleet.length) {
      throw new Error(`fleet run at concurrency ${concurrency} ended ${done.status}: ${JSON.stringify(result.totals)} ${done.error ?? ''}`)
    }
    if (concurrency === 1) serial = seconds
    rows.push([`tenantd, concurrency ${concurrency}`, seconds.toFixed(1), (fleet.length / seconds).toFixed(1), (serial / seconds).toFixed(2)])
  }
  const psqlSql = path.join(dir, 'psql-baseline.sql')
  await writeFile(psqlSql, migrationSql(9))
  const started = performance.now()
  for (const tenant of fleet) {
    await execa(path.join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-d', tenant.database_name, '-f', psqlSql], {
      env: { PGPASSWORD: cluster.superuserPassword },
    })
  }
  const psqlSeconds = (performance.now() - started) / 1000
  rows.push(['psql, one database after another', psqlSeconds.toFixed(1), (fleet.length / psqlSeconds).toFixed(1), (serial / psqlSeconds).toFixed(2)])
  table(['runner', 'seconds', 'tenants/s', 'speed vs concurrency 1'], rows)
  const best = Math.min(...rows.slice(0, 3).map((r) => Number(r[1])))
  say(`goal: ${fleet.length} tenants migrated in under 60 s: ${best < 60 ? 'MET' : 'MISSED'} (best ${best.toFixed(1)} s)`)

  // The template only saves the migrations' work, which grows with the schema; CREATE
  // DATABASE itself costs the same either way. A product-sized base schema shows the other end.
  say('')
  say(`provisioning with a product-sized base schema (${LARGE_TABLES} more tables, 2 indexes each), one at a time (${PROVISION} tenants each):`)
  await writeFile(path.join(dir, 'base', '0100_bench_product_schema.sql'), largeSchemaSql(LARGE_TABLES))
  await provision(template, 'lwarm', 1, 1) // refreshes the template outside the timing
  const ltpl = await timeProvision(template, 'ltpl', PROVISION, 1)
  const lscr = await timeProvision(scratch, 'lscr', PROVISION, 1)
  table(
    ['path', 'tenants/s', 'ms per tenant (median)', 'p95 ms'],
    [
      ['template clone', ltpl.perSecond.toFixed(2), ltpl.median.toFixed(0), ltpl.p95.toFixed(0)],
      ['from scratch', lscr.perSecond.toFixed(2), lscr.median.toFixed(0), lscr.p95.toFixed(0)],
    ]
  )
  say(`ratio template/scratch (tenants/s): ${(ltpl.perSecond / lscr.perSecond).toFixed(2)}   goal >= 2 ${ltpl.perSecond / lscr.perSecond >= 2 ? 'MET' : 'MISSED'}`)
}

const LARGE_TABLES = Number(process.env.BENCH_LARGE_TABLES ?? 80)

/** A base schema the size of a real product's: tables with keys, a foreign key, two indexes. */
function largeSchemaSql(count: number): string {
  const parts: string[] = []
  for (let i = 0; i < count; i++) {
    parts.push(`create table if not exists product_entity_${i} (
  id bigint generated always as identity primary key,
  owner_id uuid references users (id) on delete set null,
  code text not null,
  title text not null,
  status text not null default 'draft' check (status in ('draft', 'active', 'archived')),
  amount numeric(12, 2) not null default 0,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index if not exists product_entity_${i}_code on product_entity_${i} (code);
create index if not exists product_entity_${i}_status_created on product_entity_${i} (status, created_at desc);`)
  }
  return `${parts.join('\n')}\n`
}

function migrationSql(index: number): string {
  return `create table if not exists bench_notes_${index} (id bigint generated always as identity primary key, body text not null, created_at timestamptz not null default now());
create index if not exists bench_notes_${index}_created on bench_notes_${index} (created_at);
alter table users add column if not exists bench_flag_${index} boolean not null default false;
`
}

async function startInstance(cluster: TestCluster, admin: { user: string; password: string }, catalog: string, env: Record<string, string>): Promise<Tenantd> {
  await cluster.query(`CREATE DATABASE ${catalog} OWNER ${admin.user}`)
  const config = loadConfig({
    DATABASE_URL: cluster.url(catalog, admin.user, admin.password),
    TENANTD_MASTER_KEY: SecretSealer.generateKeyring('bench1'),
    JWT_SECRET: 'bench-jwt-secret-0123456789-0123456789-abcdef',
    TENANTD_ADMIN_EMAIL: 'root@tenantd.bench',
    TENANTD_ADMIN_PASSWORD: 'root-password-1',
    LOG_LEVEL: 'warn',
    ...env,
  })
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
  const tenantd = await startTenantd(config, pino(loggerOptions('warn'), sink), { operations: { sweepMs: 3_600_000 } })
  teardowns.push(() => tenantd.close())
  await tenantd.hosts.register({ name: 'bench-host', host: '127.0.0.1', port: cluster.port, adminUser: admin.user, adminPassword: admin.password, isDefault: true })
  return tenantd
}

/** Provisions `count` tenants `<prefix>-<i>`, `concurrency` at a time; returns each one's duration (ms). */
async function provision(tenantd: Tenantd, prefix: string, count: number, concurrency: number): Promise<number[]> {
  const durations: number[] = []
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= count) return
      const started = performance.now()
      const { operation } = await tenantd.provisioner.request({ name: `${prefix} ${i}`, slug: `${prefix}-${i}`, plan: 'free' })
      const done = await tenantd.operations.execute(operation.id)
      if (done.status !== 'succeeded') throw new Error(`provisioning ${prefix}-${i} ended ${done.status}: ${done.error}`)
      durations.push(performance.now() - started)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return durations
}

async function timeProvision(tenantd: Tenantd, prefix: string, count: number, concurrency: number) {
  const started = performance.now()
  const durations = await provision(tenantd, prefix, count, concurrency)
  return summarize(durations, performance.now() - started)
}

/** The by-hand baseline: the same role, database and base schema, through psql. */
async function timePsqlProvision(cluster: TestCluster, admin: { user: string; password: string }, dir: string, count: number) {
  const psql = path.join(PG_BIN, 'psql')
  const base = path.join(dir, 'base', '0001_base.sql')
  const durations: number[] = []
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const one = performance.now()
    const role = `psql_t${i}_owner`
    const db = `psql_t${i}`
    const password = SecretSealer.generateKeyring('x').slice(2, 34)
    const common = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(cluster.port)]
    await execa(psql, [...common, '-U', admin.user, '-d', 'postgres', '-c', `CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 5`, '-c', `GRANT ${role} TO CURRENT_USER`, '-c', `CREATE DATABASE ${db} OWNER ${role} TEMPLATE template0`, '-c', `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`], {
      env: { PGPASSWORD: admin.password },
    })
    await execa(psql, [...common, '-U', role, '-d', db, '-f', base], { env: { PGPASSWORD: password } })
    durations.push(performance.now() - one)
  }
  return summarize(durations, performance.now() - started)
}

function summarize(durations: number[], totalMs: number) {
  const sorted = [...durations].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { perSecond: durations.length / (totalMs / 1000), median: at(0.5), p95: at(0.95) }
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  say(line(header))
  say(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) say(line(row))
}

let failed = false
try {
  await main()
} catch (error) {
  failed = true
  say(`bench:migrate failed: ${(error as Error).stack ?? error}`)
} finally {
  for (const fn of teardowns.reverse()) {
    try {
      await fn()
    } catch {
      // best effort
    }
  }
}
process.exit(failed ? 1 : 0)
