/**
 * Resolver benchmark (`npm run bench:resolver`).
 *
 * One throwaway embedded PostgreSQL cluster, one tenantd over it (DATABASE_URL mode, as the
 * test harness does), N tenants provisioned, and the real `buildApp(tenantd)` with four
 * bench routes added before `ready()`:
 *
 *   GET /bench/select1     preHandler app.resolveTenant, then tenantd.pools.run(tenant, select 1)
 *   GET /bench/static      select 1 through Kysely over ONE static pg.Pool (no resolver, no cache)
 *   GET /bench/static-raw  select 1 with pool.query on that same pg.Pool (no Kysely either)
 *   GET /bench/multi       select 1 through Kysely over one plain pg.Pool PER TENANT DATABASE,
 *                          picked by a Map lookup on the Host header (no resolver, no pool
 *                          cache): what one-database-per-tenant costs by itself
 *
 * Load comes from bench/load.ts in a child process (own event loop): fixed concurrency,
 * fixed duration, keep-alive connections, Host `<subdomain>.localhost` round robin over the
 * tenants (sent to all routes, so header parsing is the same). Variants run alternately
 * (A B C, A B C, ...) after a warm-up of each. Then cold start: first query on a tenant whose
 * pool was evicted, end to end over HTTP and directly through pools.run(), versus a bare
 * pg.Client connect + select 1 (+ end) as the tenant's role (SCRAM).
 *
 * Exit code 0 when everything ran (whether or not the goal was met), 1 when anything failed.
 *
 * Knobs (environment): BENCH_TENANTS (100), BENCH_PLAN (free), BENCH_CONCURRENCY (32),
 * BENCH_DURATION_MS (5000), BENCH_WARMUP_MS (2000), BENCH_ROUNDS (3), BENCH_COLD (20),
 * BENCH_PROVISION_CONCURRENCY (4), BENCH_BUDGET (tenants × pool size),
 * BENCH_LOG_LEVEL (warn).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { tenantOf } from '../src/http/plugins/tenant-resolver-plugin.js'
import { tenantClientConfig } from '../src/tenancy/tenant-connection.js'
import type { TenantRecord } from '../src/tenancy/tenant-directory.js'
import { startBenchTenantd, type BenchTenantd } from './bench-cluster.js'
import type { RunMessage, RunResult } from './load.js'

const num = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`)
  return value
}

const TENANTS = num('BENCH_TENANTS', 100)
const PLAN = process.env.BENCH_PLAN || 'free'
const CONCURRENCY = num('BENCH_CONCURRENCY', 32)
const DURATION_MS = num('BENCH_DURATION_MS', 5000)
const WARMUP_MS = num('BENCH_WARMUP_MS', 2000)
const ROUNDS = num('BENCH_ROUNDS', 3)
const COLD = Math.min(num('BENCH_COLD', 20), TENANTS)
const PROVISION_CONCURRENCY = num('BENCH_PROVISION_CONCURRENCY', 4)
const GOAL = 0.9
/** Everything, setup to cleanup, must end within this; otherwise clean up and fail. */
const WATCHDOG_MS = 300_000

type Variant = 'resolver' | 'static' | 'static-raw' | 'multi'
const ROUTES: Record<Variant, string> = { resolver: '/bench/select1', static: '/bench/static', 'static-raw': '/bench/static-raw', multi: '/bench/multi' }
const VARIANTS: Variant[] = ['resolver', 'static', 'static-raw', 'multi']

interface Phase {
  variant: Variant
  round: number
  requests: number
  errors: number
  elapsedMs: number
  rps: number
  p50: number
  p99: number
  /** Server process CPU per request, µs. */
  serverCpuUs: number
  /** Load generator CPU per request, µs. */
  clientCpuUs: number
  /** Whole-machine CPU busy during the phase, % of all cores. */
  machineBusy: number
  latenciesUs: number[]
  /** Tenant pool connections after the phase. */
  connections: number
}

// ---------------------------------------------------------------------------------------

function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

function sortedCopy(values: number[]): Float64Array {
  return Float64Array.from(values).sort()
}

/** /proc/stat aggregate: [busy, total] jiffies. */
function machineCpu(): [number, number] {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const fields = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    const total = fields.reduce((a, b) => a + b, 0)
    return [total - idle, total]
  } catch {
    return [0, 0]
  }
}

const ms = (us: number): string => (us / 1000).toFixed(2)
const pad = (s: string | number, n: number): string => String(s).padStart(n)

function log(line = ''): void {
  process.stdout.write(`${line}\n`)
}

// ---------------------------------------------------------------------------------------

class LoadGenerator {
  readonly #child: ChildProcess
  #pending: { resolve: (r: RunResult) => void; reject: (e: Error) => void } | undefined

  constructor() {
    // Explicit execArgv: the parent may run with --cpu-prof, which the child must not inherit.
    this.#child = fork(fileURLToPath(new URL('./load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (msg: RunResult | { type: 'error'; message: string }) => {
      const pending = this.#pending
      this.#pending = undefined
      if (!pending) return
      if (msg.type === 'result') pending.resolve(msg)
      else pending.reject(new Error(`load generator: ${msg.message}`))
    })
    this.#child.on('exit', (code, signal) => {
      this.#pending?.reject(new Error(`load generator exited (code ${code}, signal ${signal})`))
      this.#pending = undefined
    })
  }

  run(msg: Omit<RunMessage, 'type'>): Promise<RunResult> {
    if (this.#pending) throw new Error('load generator busy')
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#child.send({ type: 'run', ...msg })
    })
  }

  stop(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill()
  }
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const t0 = performance.now()
  const resources: { bench?: BenchTenantd; app?: FastifyInstance; load?: LoadGenerator; staticPool?: pg.Pool; multiPools: pg.Pool[]; agent?: http.Agent } = { multiPools: [] }
  let cleaned = false
  const cleanup = async (): Promise<void> => {
    if (cleaned) return
    cleaned = true
    resources.load?.stop()
    resources.agent?.destroy()
    await resources.app?.close().catch(() => {})
    await resources.staticPool?.end().catch(() => {})
    await Promise.all(resources.multiPools.map((p) => p.end().catch(() => {})))
    await resources.bench?.cleanup()
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nBENCH FAILED: still running after ${WATCHDOG_MS / 1000} s; cleaning up\n`)
    void cleanup().finally(() => process.exit(1))
  }, WATCHDOG_MS)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up\n`)
      void cleanup().finally(() => process.exit(130))
    })
  }

  try {
    // --- setup ------------------------------------------------------------------------
    const poolSize = PLAN === 'free' ? 2 : PLAN === 'pro' ? 5 : 10
    // Every tenant pool may fill up (no permit waits, no reclaim churn): warm pools only.
    const budget = num('BENCH_BUDGET', Math.max(150, TENANTS * poolSize))
    const maxConnections = budget * 3 + 100 // tenant pools + static pool (≤ budget) + multi pools + catalog, admin, spare
    log(`tenantd resolver benchmark: ${TENANTS} tenants (plan ${PLAN}, pool size ${poolSize}), concurrency ${CONCURRENCY}, ${ROUNDS} × ${DURATION_MS / 1000} s per variant after ${WARMUP_MS / 1000} s warm-up`)
    const idle0 = machineCpu()
    await new Promise((r) => setTimeout(r, 1000))
    const idle1 = machineCpu()
    const background = idle1[1] > idle0[1] ? (100 * (idle1[0] - idle0[0])) / (idle1[1] - idle0[1]) : NaN
    log(`machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ${os.platform()} ${os.release()}`)

    log(`machine busy before the bench (1 s sample): ${background.toFixed(0)}%${background > 15 ? '  WARNING: something else is using the CPU; throughput figures will be noisy' : ''}`)
    const bench = (resources.bench = await startBenchTenantd({
      maxConnections,
      env: {
        TENANTD_POOL_CONNECTION_BUDGET: String(budget),
        TENANTD_POOL_MAX_TENANTS: String(Math.max(200, TENANTS * 2)),
        // Longer than the whole bench: no pool expires between phases.
        TENANTD_POOL_IDLE_MS: '600000',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
      },
    }))
    const { tenantd, cluster } = bench
    const pgVersion = (await cluster.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v
    log(`postgres ${pgVersion} (embedded, SCRAM, fsync off), max_connections ${maxConnections}; tenant pool budget ${budget}`)
    const tSetup = performance.now()
    log(`cluster + tenantd started in ${((tSetup - t0) / 1000).toFixed(1)} s; provisioning ${TENANTS} tenants (${PROVISION_CONCURRENCY} at a time)...`)
    const tenants = await bench.provisionMany(TENANTS, { plan: PLAN, prefix: 'bench', concurrency: PROVISION_CONCURRENCY })
    log(`provisioned in ${((performance.now() - tSetup) / 1000).toFixed(1)} s`)

    // --- app with the bench routes ----------------------------------------------------
    const app = (resources.app = await buildApp(tenantd))
    let staticDb: Kysely<any> | undefined
    let staticPool: pg.Pool | undefined
    const multiByHost = new Map<string, Kysely<any>>()
    await app.register(async (scope) => {
      scope.get(ROUTES.resolver, { preHandler: app.resolveTenant }, async (request) => {
        const result = await tenantd.pools.run(tenantOf(request).id, (db) => sql<{ one: number }>`select 1 as one`.execute(db))
        return result.rows[0]
      })
      scope.get(ROUTES.static, async () => {
        const result = await sql<{ one: number }>`select 1 as one`.execute(staticDb!)
        return result.rows[0]
      })
      scope.get(ROUTES.multi, async (request) => {
        const result = await sql<{ one: number }>`select 1 as one`.execute(multiByHost.get(request.headers.host!)!)
        return result.rows[0]
      })
      scope.get(ROUTES['static-raw'], async () => {
        const result = await staticPool!.query<{ one: number }>('select 1 as one')
        return result.rows[0]
      })
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = (app.server.address() as AddressInfo).port
    const hosts = tenants.map((t) => `${t.subdomain}.localhost`)
    const load = (resources.load = new LoadGenerator())

    const phase = async (variant: Variant, round: number, durationMs: number): Promise<Phase> => {
      const cpu0 = process.cpuUsage()
      const m0 = machineCpu()
      const r = await load.run({ port, path: ROUTES[variant], hosts, concurrency: CONCURRENCY, durationMs })
      const cpu = process.cpuUsage(cpu0)
      const m1 = machineCpu()
      if (r.errors > 0) {
        throw new Error(`${variant} round ${round}: ${r.errors} failed requests of ${r.requests} (${JSON.stringify(r.statuses)}) ${r.sample.join(' | ')}`)
      }
      const sorted = sortedCopy(r.latenciesUs)
      return {
        variant,
        round,
        requests: r.requests,
        errors: r.errors,
        elapsedMs: r.elapsedMs,
        rps: (r.requests * 1000) / r.elapsedMs,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        serverCpuUs: (cpu.user + cpu.system) / Math.max(1, r.requests),
        clientCpuUs: r.cpuUs / Math.max(1, r.requests),
        machineBusy: m1[1] > m0[1] ? (100 * (m1[0] - m0[0])) / (m1[1] - m0[1]) : NaN,
        latenciesUs: r.latenciesUs,
        connections: tenantd.pools.stats().connections,
      }
    }

    // --- warm-up ----------------------------------------------------------------------
    // Open every tenant pool to its full size first (poolSize overlapping queries per tenant,
    // 10 tenants at a time), so no connection is opened (SCRAM handshake, new backend)
    // during the measured rounds: this compares warm pools only.
    const hold = (db: Kysely<any>) => sql`select pg_sleep(0.02)`.execute(db)
    for (let i = 0; i < tenants.length; i += 10) {
      await Promise.all(tenants.slice(i, i + 10).flatMap((t) => Array.from({ length: poolSize }, () => tenantd.pools.run(t.id, hold))))
    }
    // Then the resolver route over HTTP (fills the tenant directory cache, JIT warm-up).
    const warm = await phase('resolver', 0, WARMUP_MS)
    const stats = tenantd.pools.stats()
    // The static pool gets the same number of connections the tenant pools hold in total,
    // also opened up front.
    const staticMax = stats.connections
    staticPool = resources.staticPool = new pg.Pool({
      host: '127.0.0.1',
      port: cluster.port,
      database: tenants[0]!.database_name,
      user: cluster.superuser,
      password: cluster.superuserPassword,
      max: staticMax,
      idleTimeoutMillis: 600_000,
      application_name: 'tenantd-bench-static',
    })
    staticPool.on('error', () => {})
    staticDb = new Kysely<any>({ dialect: new PostgresDialect({ pool: staticPool }) })
    await Promise.all(Array.from({ length: staticMax }, () => staticPool!.query('select pg_sleep(0.05)')))
    // One plain pg.Pool per tenant database, the tenant pools' size, also opened up front.
    for (const [i, t] of tenants.entries()) {
      const p = new pg.Pool({ host: '127.0.0.1', port: cluster.port, database: t.database_name, user: cluster.superuser, password: cluster.superuserPassword, max: poolSize, idleTimeoutMillis: 600_000, application_name: 'tenantd-bench-multi' })
      p.on('error', () => {})
      resources.multiPools.push(p)
      multiByHost.set(hosts[i]!, new Kysely<any>({ dialect: new PostgresDialect({ pool: p }) }))
    }
    for (let i = 0; i < tenants.length; i += 10) {
      await Promise.all(resources.multiPools.slice(i, i + 10).flatMap((p) => Array.from({ length: poolSize }, () => p.query('select pg_sleep(0.02)'))))
    }
    await phase('static', 0, WARMUP_MS)
    await phase('static-raw', 0, Math.min(WARMUP_MS, 1000))
    await phase('multi', 0, Math.min(WARMUP_MS, 1000))
    log(`warm-up: resolver ${warm.rps.toFixed(0)} req/s; tenant pools ${stats.pools}, connections ${stats.connections} (budget ${stats.budget}); static pool ${staticPool.totalCount} of max ${staticMax}`)

    // --- measured rounds, alternating -------------------------------------------------
    const phases: Phase[] = []
    log('')
    log('round  variant      requests    req/s   p50 ms   p99 ms  server CPU µs/req  client CPU µs/req  machine busy  tenant conns')
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of VARIANTS) {
        const p = await phase(variant, round, DURATION_MS)
        phases.push(p)
        log(`${pad(round, 5)}  ${variant.padEnd(11)} ${pad(p.requests, 9)} ${pad(p.rps.toFixed(0), 8)} ${pad(ms(p.p50), 8)} ${pad(ms(p.p99), 8)} ${pad(p.serverCpuUs.toFixed(0), 18)} ${pad(p.clientCpuUs.toFixed(0), 18)} ${pad(p.machineBusy.toFixed(0), 12)}% ${pad(p.connections, 13)}`)
      }
    }
    const endStats = tenantd.pools.stats()

    const summary = VARIANTS.map((variant) => {
      const ps = phases.filter((p) => p.variant === variant)
      const requests = ps.reduce((s, p) => s + p.requests, 0)
      const elapsed = ps.reduce((s, p) => s + p.elapsedMs, 0)
      const sorted = sortedCopy(ps.flatMap((p) => p.latenciesUs))
      return {
        variant,
        requests,
        rps: (requests * 1000) / elapsed,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        serverCpuUs: ps.reduce((s, p) => s + p.serverCpuUs * p.requests, 0) / requests,
      }
    })
    const [res, sta, raw, multi] = summary as [(typeof summary)[0], (typeof summary)[0], (typeof summary)[0], (typeof summary)[0]]
    const ratio = res.rps / sta.rps
    log('')
    log(`all rounds  variant      requests    req/s   p50 ms   p99 ms  server CPU µs/req`)
    for (const s of summary) {
      log(`            ${s.variant.padEnd(11)} ${pad(s.requests, 9)} ${pad(s.rps.toFixed(0), 8)} ${pad(ms(s.p50), 8)} ${pad(ms(s.p99), 8)} ${pad(s.serverCpuUs.toFixed(0), 18)}`)
    }
    log('')
    log(`ratio resolver/static (req/s):      ${ratio.toFixed(3)}   (p99 ${ms(res.p99)} ms vs ${ms(sta.p99)} ms)`)
    log(`ratio resolver/static-raw (req/s):  ${(res.rps / raw.rps).toFixed(3)}`)
    log(`server CPU per request, static/resolver: ${(sta.serverCpuUs / res.serverCpuUs).toFixed(3)}   (${sta.serverCpuUs.toFixed(0)} vs ${res.serverCpuUs.toFixed(0)} µs; less sensitive to other load on the machine)`)
    log(`ratio multi/static (req/s):         ${(multi.rps / sta.rps).toFixed(3)}   (one pool per tenant database, no tenancy code)`)
    log(`ratio resolver/multi (req/s):       ${(res.rps / multi.rps).toFixed(3)}   (resolver + TenantPoolCache alone)`)
    log(`tenant pools after the rounds: ${endStats.pools} pools, ${endStats.connections} connections, ${endStats.waiting} waiting`)
    log(ratio >= GOAL ? `GOAL MET: ratio ${ratio.toFixed(3)} >= ${GOAL}` : `GOAL MISSED: ratio ${ratio.toFixed(3)} < ${GOAL}`)

    // --- cold start ---------------------------------------------------------------------
    log('')
    log(`cold start over ${COLD} tenants (pool evicted before each first query; directory cache warm):`)
    const agent = (resources.agent = new http.Agent({ keepAlive: true, maxSockets: 1 }))
    const get = (host: string, path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const start = performance.now()
        const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host } }, (resp) => {
          resp.resume()
          resp.on('end', () => (resp.statusCode === 200 ? resolve((performance.now() - start) * 1000) : reject(new Error(`GET ${host}${path}: ${resp.statusCode}`))))
        })
        req.on('error', reject)
        req.end()
      })
    await get(hosts[0]!, ROUTES.static) // open the keep-alive socket
    const cold = { http: [] as number[], httpWarm: [] as number[], run: [] as number[], runWarm: [] as number[], bareFirst: [] as number[], bareTotal: [] as number[] }
    const select1 = (db: Kysely<any>) => sql`select 1`.execute(db)
    for (let i = 0; i < COLD; i++) {
      const tenant: TenantRecord = tenants[i]!
      await tenantd.pools.evict(tenant.id)
      cold.http.push(await get(hosts[i]!, ROUTES.resolver))
      cold.httpWarm.push(await get(hosts[i]!, ROUTES.resolver))

      await tenantd.pools.evict(tenant.id)
      let start = performance.now()
      await tenantd.pools.run(tenant.id, select1)
      cold.run.push((performance.now() - start) * 1000)
      start = performance.now()
      await tenantd.pools.run(tenant.id, select1)
      cold.runWarm.push((performance.now() - start) * 1000)

      const conn = tenantClientConfig(tenant, tenantd.sealer)
      start = performance.now()
      const client = new pg.Client({ host: conn.host, port: conn.port, database: conn.database, user: conn.user, password: conn.password })
      await client.connect()
      await client.query('select 1')
      cold.bareFirst.push((performance.now() - start) * 1000)
      await client.end()
      cold.bareTotal.push((performance.now() - start) * 1000)
    }
    const line = (label: string, values: number[]): void => {
      const sorted = sortedCopy(values)
      log(`  ${label.padEnd(58)} median ${pad(ms(percentile(sorted, 0.5)), 7)} ms   p95 ${pad(ms(percentile(sorted, 0.95)), 7)} ms`)
    }
    line('HTTP first request, cold tenant (resolver + new pool)', cold.http)
    line('HTTP next request, same tenant (warm)', cold.httpWarm)
    line('pools.run first select 1, cold tenant', cold.run)
    line('pools.run next select 1 (warm)', cold.runWarm)
    line('bare pg.Client: connect + select 1 (SCRAM, tenant role)', cold.bareFirst)
    line('bare pg.Client: connect + select 1 + end', cold.bareTotal)

    const badLogs = bench.warnings.filter((l) => /"level":(50|60)/.test(l))
    if (badLogs.length) {
      log('')
      log(`tenantd logged ${badLogs.length} error(s):`)
      for (const l of badLogs.slice(0, 5)) log(`  ${l.slice(0, 400)}`)
    }
    log('')
    log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    return badLogs.length ? 1 : 0
  } catch (error) {
    process.stderr.write(`\nBENCH FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    const warnings = resources.bench?.warnings ?? []
    if (warnings.length) process.stderr.write(`last tenantd log lines:\n${warnings.slice(-10).join('\n')}\n`)
    return 1
  } finally {
    await cleanup()
    clearTimeout(watchdog)
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`BENCH FAILED: ${String(error)}\n`)
    process.exit(1)
  }
)
