/**
 * `npm run bench:move` (issue 9): what moving a tenant to another db host costs, and how long
 * its writes are frozen, against a bare `pg_dump -Fc | pg_restore` of the same database.
 *
 * 1. Two throwaway clusters (embedded PostgreSQL 15, SCRAM, random ports, wal_level=logical):
 *    the first holds tenantd's catalog and is the source host, the second is registered as host
 *    `db2`. tenantd serves HTTP on loopback (bench/bench-cluster.ts, src/app.ts).
 * 2. Per size in BENCH_MOVE_SIZES (MB, default `10,100,1000`) a tenant with the price-basket
 *    module is provisioned and a table of its own (`bench_rows`: bigint key, md5-derived text,
 *    an int with its own index; about 3,200 rows per MB) is filled until the database has that
 *    size.
 * 3. A client writes through tenantd, over HTTP on the tenant's own host, one request every
 *    BENCH_MOVE_WRITE_MS (default 10 ms): creates (half), renames and deletes price-basket suppliers,
 *    keeping the acknowledged ones. It runs through both of the following, which alternate:
 *      bare   `pg_dump -Fc <db> | pg_restore -d <scratch db on db2>` (admin roles, passwords in
 *             the environment), then the scratch database dropped
 *      move   `POST /api/admin/tenants/:id/move {targetHostId: db2}`, followed to its end
 *             (tenantd's operation: copy in a snapshot while writable, bulk compare, catch up,
 *             freeze, last changes, compare of the rows changed meanwhile, switch)
 *    The freeze as the client sees it is the longest run of refused writes: from the start of
 *    the first refused request to the answer of the next acknowledged one. After the move every
 *    acknowledged supplier must be on the target with its last name, and no other.
 * 4. The tenant is then moved back (not timed) so the next size starts from the first host.
 *
 * Goals: freeze ≤ 2 s at 100 MB and at 1 GB; total ≤ 1.3× the bare copy; zero lost writes.
 * Missing a goal prints MISSED (exit code 0); a failure or a lost write exits 1.
 */
import http from 'node:http'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import pg, { escapeIdentifier } from 'pg'
import { buildApp } from '../src/app.js'
import { startTestCluster } from '../test/helpers/cluster.js'
import { benchMain, startBenchTenantd } from './bench-cluster.js'

const SIZES = (process.env.BENCH_MOVE_SIZES ?? '10,100,1000').split(',').map(Number)
const WRITE_MS = Number(process.env.BENCH_MOVE_WRITE_MS ?? 10)
const PG_BIN = process.env.TENANTD_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'
/** About 320 bytes per row with its two indexes; an empty database is about 8 MB. */
const ROWS_PER_MB = 3_200
const EMPTY_MB = 8

const say = (line = '') => process.stdout.write(`${line}\n`)
const seconds = (ms: number) => (ms / 1000).toFixed(1)
const load = () => os.loadavg().map((n) => n.toFixed(2)).join(', ')

const agent = new http.Agent({ keepAlive: true })

/** One JSON request over HTTP (node:http: fetch does not let a client choose the Host header). */
function send(base: string, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${url}`, { method, agent, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

interface Writer {
  stop(): Promise<{ acknowledged: number; refused: number; longestRefusedMs: number; statuses: string[] }>
  model: Map<string, string>
  readonly acknowledged: number
}

/** Writes through tenantd until stopped, one request every WRITE_MS; the model holds exactly the acknowledged writes. */
function startWriter(base: string, host: string, token: string, model: Map<string, string>): Writer {
  let stopped = false
  let acknowledged = 0
  let refused = 0
  let longest = 0
  let refusedSince: number | undefined
  const statuses = new Set<string>()
  const request = (method: string, url: string, body?: unknown) => send(base, method, url, { host, authorization: `Bearer ${token}` }, body)
  const done = (async () => {
    for (let n = 1; !stopped; n++) {
      const next = performance.now() + WRITE_MS
      const ids = [...model.keys()]
      const pick = ids[n % Math.max(1, ids.length)]
      const startedAt = performance.now()
      let res
      try {
        if (n % 4 === 0 && pick) {
          res = await request('DELETE', `/api/price-basket/suppliers/${pick}`)
          if (res.status === 204) model.delete(pick)
        } else if (n % 4 === 1 && pick) {
          res = await request('PATCH', `/api/price-basket/suppliers/${pick}`, { name: `Renamed ${n}` })
          if (res.status === 200) model.set(pick, `Renamed ${n}`)
        } else {
          res = await request('POST', '/api/price-basket/suppliers', { name: `Written ${n}` })
          if (res.status === 201) model.set(res.json.id, `Written ${n}`)
        }
      } catch (error) {
        res = { status: 0, json: { error: (error as Error).message } }
      }
      if (res.status < 300) {
        acknowledged++
        if (refusedSince !== undefined) longest = Math.max(longest, performance.now() - refusedSince)
        refusedSince = undefined
      } else {
        refused++
        statuses.add(`${res.status} ${res.json?.error ?? ''}`)
        refusedSince ??= startedAt
      }
      const wait = next - performance.now()
      if (wait > 0) await sleep(wait)
    }
  })()
  return {
    model,
    get acknowledged() {
      return acknowledged
    },
    async stop() {
      stopped = true
      await done
      return { acknowledged, refused, longestRefusedMs: longest, statuses: [...statuses] }
    },
  }
}

async function run(teardowns: Array<() => unknown>): Promise<void> {
  const bench = await startBenchTenantd({ maxConnections: 100, env: { TENANTD_ADMIN_EMAIL: 'root@tenantd.bench', TENANTD_ADMIN_PASSWORD: 'root-password-1' } })
  teardowns.push(() => bench.cleanup())
  const second = await startTestCluster({ teardown: (fn) => teardowns.push(fn) }, { maxConnections: 100 })
  const db2Admin = await second.createAdminRole('tenantd_db2')
  const { tenantd } = bench
  const db2 = await tenantd.hosts.register({ name: 'db2', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password })
  const app = await buildApp(tenantd)
  await app.listen({ host: '127.0.0.1', port: 0 })
  teardowns.push(() => app.close())
  const address = app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const login = async (email: string, password: string, host?: string) => {
    const res = await send(base, 'POST', '/api/auth/login', host ? { host } : {}, { email, password })
    if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${JSON.stringify(res.json)}`)
    return String(res.json.accessToken)
  }
  const adminToken = await login('root@tenantd.bench', 'root-password-1')
  const admin = (method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => send(base, method, url, { authorization: `Bearer ${adminToken}` }, body)
  const source = (await tenantd.catalog.db.selectFrom('db_hosts').select(['id', 'name']).where('name', '=', 'bench-host').executeTakeFirstOrThrow())
  const pgVersion = (await bench.cluster.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v

  say(`bench:move on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, PostgreSQL ${pgVersion}, load ${load()}`)
  say(`sizes ${SIZES.join(', ')} MB; a client writes through tenantd every ${WRITE_MS} ms during both runs`)
  const rows: string[] = []
  let failed = false
  let missed = false
  for (const size of SIZES) {
    const slug = `move${size}`
    const { operation } = await tenantd.provisioner.request({ name: `Move ${size}`, slug, plan: 'enterprise', contactEmail: `${slug}@bench.test`, adminEmail: `admin@${slug}.test`, adminPassword: 'bench-password-1', modules: ['price-basket'] })
    const provisioned = await tenantd.operations.execute(operation.id)
    if (provisioned.status !== 'succeeded') throw new Error(`provisioning ${slug}: ${provisioned.status} ${provisioned.error}`)
    const tenant = await tenantd.tenants.get(slug)
    const database = tenant.database_name
    const fillStarted = performance.now()
    await bench.cluster.query(
      `set role ${escapeIdentifier(tenant.role_name)};
       create table bench_rows (id bigint primary key, n int not null, note text not null, at timestamptz not null default now());
       insert into bench_rows (id, n, note)
         select g, (g::bigint * 7919 % 100000)::int, repeat(md5(g::text), 6) || md5((g * 31)::text) from generate_series(1, ${Math.max(0, size - EMPTY_MB) * ROWS_PER_MB}) g;
       create index bench_rows_n on bench_rows (n);
       analyze bench_rows`,
      [],
      database
    )
    const bytes = Number((await bench.cluster.query<{ b: string }>('select pg_database_size($1)::text as b', [database])).rows[0]!.b)
    say(`\n${slug}: ${(bytes / 2 ** 20).toFixed(0)} MB database, filled in ${seconds(performance.now() - fillStarted)} s (load ${load()})`)

    const host = `${tenant.subdomain}.localhost`
    const token = await login(`admin@${slug}.test`, 'bench-password-1', host)

    // The bare copy, under the same write load.
    // One model of the acknowledged writes for both runs: they write to the same tenant.
    const model = new Map<string, string>()
    let writer = startWriter(base, host, token, model)
    const scratch = `bare_${slug}`
    await second.query(`create database ${escapeIdentifier(scratch)}`)
    const bareStarted = performance.now()
    const dump = execa(`${PG_BIN}/pg_dump`, ['-Fc', '-h', '127.0.0.1', '-p', String(bench.cluster.port), '-U', 'postgres', database], { env: { PGPASSWORD: new URL(bench.cluster.url()).password }, buffer: false, stdout: 'pipe' })
    const restore = execa(`${PG_BIN}/pg_restore`, ['--no-owner', '-h', '127.0.0.1', '-p', String(second.port), '-U', 'postgres', '-d', scratch], { env: { PGPASSWORD: new URL(second.url()).password }, stdin: 'pipe' })
    dump.stdout!.pipe(restore.stdin!)
    await Promise.all([dump, restore])
    const bareMs = performance.now() - bareStarted
    const bareSeen = await writer.stop()
    await second.query(`drop database ${escapeIdentifier(scratch)} with (force)`)
    say(`  bare pg_dump -Fc | pg_restore: ${seconds(bareMs)} s, ${bareSeen.acknowledged} writes acknowledged, ${bareSeen.refused} refused ${bareSeen.statuses.join(', ')} (load ${load()})`)
    if (bareSeen.acknowledged === 0) throw new Error(`the client's writes were all refused (${bareSeen.statuses.join(', ')})`)

    // The move, under the same write load.
    writer = startWriter(base, host, token, model)
    while (writer.acknowledged < 20) await sleep(20)
    const moveStarted = performance.now()
    const started = await admin('POST', `/api/admin/tenants/${slug}/move`, { targetHostId: db2.id })
    if (started.status !== 202) throw new Error(`move answered ${started.status}: ${JSON.stringify(started.json)}`)
    const operationId = String(started.json.operationId)
    let step = ''
    let op: Record<string, unknown>
    for (;;) {
      op = (await admin('GET', `/api/admin/operations/${operationId}`)).json
      if (op.step !== step) {
        step = String(op.step)
        say(`    ${seconds(performance.now() - moveStarted).padStart(6)} s  ${step}`)
      }
      if (op.status === 'succeeded' || op.status === 'failed') break
      await sleep(100)
    }
    const moveMs = performance.now() - moveStarted
    // A few writes after the switch, then the client stops.
    const after = writer.acknowledged
    for (let i = 0; i < 200 && writer.acknowledged < after + 5; i++) await sleep(20)
    const seen = await writer.stop()
    if (op.status !== 'succeeded') {
      say(`  move FAILED: ${op.error}`)
      failed = true
      break
    }
    const recorded = await tenantd.catalog.db.selectFrom('operations').select('result').where('id', '=', operationId).executeTakeFirstOrThrow()
    const result = (recorded.result ?? {}) as { freezeMs?: number; changesApplied?: number; method?: string }

    // Every acknowledged write on the target, and nothing else.
    const target = new pg.Client({ connectionString: second.url(database) })
    await target.connect()
    const { rows: onTarget } = await target.query<{ id: string; nome: string }>('select id::text, nome from cp_fornecedores')
    await target.end()
    const targetMap = new Map(onTarget.map((r) => [r.id, r.nome]))
    let lost = 0
    for (const [id, name] of writer.model) if (targetMap.get(id) !== name) lost++
    const extra = onTarget.filter((r) => !writer.model.has(r.id)).length
    if (lost || extra) failed = true

    const ratio = moveMs / bareMs
    const freezeGoal = size >= 100 ? seen.longestRefusedMs <= 2000 : true
    if (!freezeGoal || ratio > 1.3) missed = true
    say(`  move (${result.method}): ${seconds(moveMs)} s, freeze ${(seen.longestRefusedMs / 1000).toFixed(2)} s as the client saw it (${result.freezeMs} ms recorded), ${result.changesApplied ?? 0} changes applied, ${seen.acknowledged} writes acknowledged, ${seen.refused} refused (${seen.statuses.join(', ') || 'none'}), lost ${lost}, unexpected ${extra}`)
    rows.push(
      `| ${String(size).padStart(5)} | ${(bytes / 2 ** 20).toFixed(0).padStart(5)} | ${seconds(bareMs).padStart(7)} | ${seconds(moveMs).padStart(7)} | ${ratio.toFixed(2).padStart(5)}${ratio > 1.3 ? ' MISSED' : ''} | ${(seen.longestRefusedMs / 1000).toFixed(2).padStart(6)}${freezeGoal ? '' : ' MISSED'} | ${String(result.freezeMs).padStart(6)} | ${String(lost + extra).padStart(4)} |`
    )

    // Back to the first host for the next size (not timed), and the kept copies dropped.
    const back = await admin('POST', `/api/admin/tenants/${slug}/move?wait=true`, { targetHostId: source.id })
    if (back.status !== 200) throw new Error(`moving ${slug} back answered ${back.status}: ${JSON.stringify(back.json)}`)
    await tenantd.catalog.db.updateTable('tenant_moves').set({ rollback_until: new Date(Date.now() - 1000) }).where('state', '=', 'kept').execute()
    await tenantd.moveCleanup.runOnce()
    await admin('DELETE', `/api/admin/tenants/${slug}?wait=true`, { hardDelete: true, force: true, skipFinalBackup: true })
  }
  say('\n| MB asked | MB | bare s | move s | ratio | freeze s (client) | freeze ms (server) | lost |')
  say('|---|---|---|---|---|---|---|---|')
  for (const row of rows) say(row)
  say(`\ngoals: freeze ≤ 2 s at 100 MB and 1 GB; move ≤ 1.3× bare; no lost write${missed ? ' — some MISSED' : ''}`)
  if (failed) process.exitCode = 1
}

await benchMain('bench:move', 2_400_000, run)
