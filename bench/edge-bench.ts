import { fork, type ChildProcess } from 'node:child_process'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { buildApp } from '../src/app.js'
import { EdgeSync } from '../src/edge/edge-sync.js'
import { freePort } from '../src/embedded/embedded-cluster.js'
import { startCaddy } from '../test/helpers/caddy-process.js'
import { median, startBenchTenantd } from './bench-cluster.js'
import type { RunResult } from './load.js'

// npm run bench:edge — the edge (Caddy) at 10, 100, 1,000 and 10,000 tenants:
//   1. tenantd's render + validate + write + reload after a routing change, in both apply modes
//      (TENANTD_CADDY=reload: `caddy reload`; admin-api: POST /load), against a bare `caddy
//      reload` of a file of the same size run by hand in the same run (the floor);
//   2. the time from a tenant's activation commit to its subdomain answering through Caddy
//      (admin-api mode, the change found by tenantd's own notification listener);
//   3. GET /api/caddy/ask p50/p99 under load.
// Goals (issue 7): ratio <= 1.2x; live <= 2 s at 1,000 tenants; ask p99 <= 2 ms.

const SIZES = (process.env.BENCH_EDGE_SIZES ?? '10,100,1000,10000').split(',').map(Number)
const ROUNDS = Number(process.env.BENCH_EDGE_ROUNDS ?? 5)

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

function getThroughCaddy(port: number, host: string, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

async function main(): Promise<void> {
  const teardowns: Array<() => unknown> = []
  const scratch = await mkdtemp(path.join(tmpdir(), 'tenantd-edge-bench-'))
  teardowns.push(() => rm(scratch, { recursive: true, force: true }))
  try {
    const caddy = await startCaddy({ teardown: (fn) => teardowns.push(fn) })
    const appPort = await freePort()
    const bench = await startBenchTenantd({
      maxConnections: 100,
      env: {
        TENANTD_CADDY: 'reload',
        TENANTD_CADDY_ADMIN: caddy.admin,
        TENANTD_EDGE_TLS: 'off',
        TENANTD_EDGE_HTTP_PORT: String(caddy.httpPort),
        TENANTD_EDGE_UPSTREAM: `127.0.0.1:${appPort}`,
        TENANTD_CADDYFILE: path.join(scratch, 'Caddyfile'),
      },
    })
    teardowns.push(() => bench.cleanup())
    const { tenantd } = bench
    const app = await buildApp(tenantd)
    await app.listen({ port: appPort, host: '127.0.0.1' })
    teardowns.push(() => app.close())
    const catalogDb = new URL(bench.config.databaseUrl!).pathname.slice(1)
    const host = await tenantd.catalog.db.selectFrom('db_hosts').select('id').executeTakeFirstOrThrow()
    const file = bench.config.edge.file
    // In production one routing change causes one sync (the one its notification starts). Here
    // the bench starts the syncs it times itself, so tenantd's own listening sync is stopped:
    // it would run a second sync 100 ms after each change and hold the edge lock just when the
    // next timed sync wants it. The timed syncs run on instances that never listen, one per
    // apply mode; the commit -> live measure starts a listening one (admin-api) for its part.
    await tenantd.edge.close()
    const edgeIn = (apply: 'reload' | 'admin-api') => new EdgeSync({ catalog: tenantd.catalog.db, catalogUrl: bench.config.databaseUrl!, audit: tenantd.audit, log: tenantd.log, config: { ...bench.config.edge, apply } })
    const viaReload = edgeIn('reload')
    const viaAdminApi = edgeIn('admin-api')

    console.log(`bench:edge on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, caddy ${await tenantd.edge.caddy.version()}`)
    console.log('| tenants | sync, reload mode ms (p50) | ratio | sync, admin-api mode ms (p50) | ratio | bare caddy reload ms (p50) | commit -> live through Caddy, admin-api, ms (p50, max) |')
    console.log('|---:|---:|---:|---:|---:|---:|---:|')
    const rows: string[] = []
    let have = 0
    for (const size of SIZES) {
      await bench.cluster.query(
        `insert into tenants (slug, subdomain, name, contact_email, plan_id, status, host_id, database_name, role_name, password_sealed)
         select 'edge' || i, 'edge' || i, 'Edge ' || i, 'edge' || i || '@x.test', 'free', 'active', $1, 'tenant_edge' || i, 'tenant_edge' || i || '_owner', 'unused'
           from generate_series($2::int, $3::int - 1) i`,
        [host.id, have, size],
        catalogDb
      )
      have = size
      await viaReload.syncNow()

      // 1. tenantd: one routing change, then a full sync (render, hand to Caddy, atomic write),
      // against the floor: `caddy reload` by hand of two files of this size that differ by one
      // tenant. The two alternate round by round, so load from elsewhere falls on both alike.
      // Caddy skips a load identical to what it runs, so every load on either side must differ
      // from the one before: the hand-made files have edge1 suspended, which the catalog never
      // has while the rounds run.
      const toggle = (slug: string) =>
        bench.cluster.query(`update tenants set status = case when status = 'active' then 'suspended' else 'active' end where slug = $1`, [slug], catalogDb)
      const a = path.join(scratch, 'a.caddyfile')
      const b = path.join(scratch, 'b.caddyfile')
      await toggle('edge1')
      await viaReload.syncNow()
      await copyFile(file, a)
      await toggle('edge0')
      await viaReload.syncNow()
      await copyFile(file, b)
      await toggle('edge1')
      const syncMs: number[] = []
      const apiMs: number[] = []
      const bareMs: number[] = []
      const bare = async (r: number) => {
        const t0 = performance.now()
        await execa('caddy', ['reload', '--config', r % 2 ? a : b, '--adapter', 'caddyfile', '--address', caddy.admin])
        bareMs.push(performance.now() - t0)
      }
      const timedSync = async (edge: EdgeSync, into: number[]) => {
        await toggle('edge0')
        const t0 = performance.now()
        const result = await edge.syncNow()
        into.push(performance.now() - t0)
        if (!result.applied) throw new Error(`sync did not apply: ${(await edge.status()).lastError}`)
      }
      for (let r = 0; r < ROUNDS; r++) {
        await timedSync(viaReload, syncMs)
        await bare(r)
        await timedSync(viaAdminApi, apiMs)
        await bare(r + 1)
      }
      await viaReload.syncNow({ forceApply: true })

      console.log(`${String(size).padStart(7)} | sync p50 ${median(syncMs).toFixed(0)} ms (reload), ${median(apiMs).toFixed(0)} ms (admin-api), bare reload p50 ${median(bareMs).toFixed(0)} ms (measuring commit -> live...)`)
      // 2. A tenant's activation (as the provisioner's activateTenant does), to its address answering.
      const liveMs: number[] = []
      const live = edgeIn('admin-api')
      await live.start()
      for (let r = 0; r < ROUNDS; r++) {
        const slug = `edgelive${size}x${r}`
        await bench.cluster.query(
          `insert into tenants (slug, subdomain, name, contact_email, plan_id, status, host_id, database_name, role_name, password_sealed)
           values ($1, $1, $1, $1 || '@x.test', 'free', 'provisioning', $2, 'tenant_' || $1, 'tenant_' || $1 || '_owner', 'unused')`,
          [slug, host.id],
          catalogDb
        )
        await live.syncNow()
        const t0 = performance.now()
        await bench.cluster.query(`update tenants set status = 'active' where slug = $1`, [slug], catalogDb)
        const deadline = t0 + 300_000
        while ((await getThroughCaddy(caddy.httpPort, `${slug}.localhost`, '/api/tenants/current')) !== 200) {
          if (performance.now() > deadline) throw new Error(`${slug} not live after 300 s`)
        }
        liveMs.push(performance.now() - t0)
      }
      await live.close()
      const ratio = (ms: number[]) => {
        const r = median(ms) / median(bareMs)
        return `${r.toFixed(2)}${r > 1.2 ? ' MISSED' : ''}`
      }
      const row = `| ${size} | ${median(syncMs).toFixed(0)} | ${ratio(syncMs)} | ${median(apiMs).toFixed(0)} | ${ratio(apiMs)} | ${median(bareMs).toFixed(0)} | ${median(liveMs).toFixed(0)}, ${Math.max(...liveMs).toFixed(0)} |`
      rows.push(row)
      console.log(row)
    }

    // 3. The ask endpoint under load (4 and 16 connections, 10 s each), a tenant address known to the directory.
    const load = fork(fileURLToPath(new URL('./load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) as ChildProcess
    teardowns.push(() => load.kill())
    for (const concurrency of [4, 16]) {
      const serverCpu0 = process.cpuUsage()
      const result = await new Promise<RunResult>((resolve, reject) => {
        load.once('message', (msg: RunResult | { type: 'error'; message: string }) => (msg.type === 'result' ? resolve(msg) : reject(new Error(msg.message))))
        load.send({ type: 'run', port: appPort, path: '/api/caddy/ask?domain=edge7.localhost', hosts: ['127.0.0.1'], concurrency, durationMs: 10_000 })
      })
      const serverCpu = process.cpuUsage(serverCpu0)
      const lat = result.latenciesUs.map((us) => us / 1000)
      console.log(
        `ask, ${concurrency} connections: ${Math.round(result.requests / (result.elapsedMs / 1000))} req/s, p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, errors ${result.errors}, statuses ${JSON.stringify(result.statuses)}; CPU per request: tenantd ${((serverCpu.user + serverCpu.system) / result.requests).toFixed(1)} µs, load generator ${(result.cpuUs / result.requests).toFixed(1)} µs`
      )
    }
  } finally {
    for (const fn of teardowns.reverse()) await Promise.resolve(fn()).catch(() => {})
  }
}

await main()
process.exit(0)
