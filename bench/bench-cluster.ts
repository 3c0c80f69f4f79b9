import { appendFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { loadConfig, type Config } from '../src/config.js'
import { loggerOptions, pino, type Logger } from '../src/logger.js'
import { SecretSealer } from '../src/secrets/secret-sealer.js'
import type { TenantRecord } from '../src/tenancy/tenant-directory.js'
import { startTenantd, type Tenantd } from '../src/tenantd.js'
import { startTestCluster, type TestCluster } from '../test/helpers/cluster.js'

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * A started tenantd (DATABASE_URL mode) over a throwaway embedded PostgreSQL cluster (SCRAM,
 * random port, fsync off), set up the way test/helpers/harness.ts does it, but without
 * building the HTTP app so the caller can add routes before `ready()`.
 */
export interface BenchTenantd {
  cluster: TestCluster
  tenantd: Tenantd
  config: Config
  /** Log lines at warn or above (the bench prints them if something goes wrong). */
  warnings: string[]
  /** Provisions `count` tenants `<prefix>0..` (no admin user), `concurrency` at a time. */
  provisionMany(count: number, options: { plan: string; prefix: string; concurrency: number }): Promise<TenantRecord[]>
  /** Stops tenantd, the cluster, and removes the cluster's temp dir. Never throws. */
  cleanup(): Promise<void>
}

export interface BenchTenantdOptions {
  /** PostgreSQL max_connections. */
  maxConnections: number
  /** Extra tenantd environment (TENANTD_POOL_*, LOG_LEVEL...). */
  env?: Record<string, string>
}

export async function startBenchTenantd(options: BenchTenantdOptions): Promise<BenchTenantd> {
  // startTestCluster registers its own teardown (stop + rm temp dir); collect and run it here.
  const teardowns: Array<() => unknown> = []
  const cleanupAll = async (): Promise<void> => {
    for (const fn of teardowns.reverse()) {
      try {
        await fn()
      } catch {
        // best effort
      }
    }
    teardowns.length = 0
  }
  try {
    const cluster = await startTestCluster({ teardown: (fn) => teardowns.push(fn) }, { maxConnections: options.maxConnections })
    const scratch = await mkdtemp(path.join(tmpdir(), 'tenantd-bench-'))
    teardowns.push(() => rm(scratch, { recursive: true, force: true }))
    const admin = await cluster.createAdminRole('tenantd_bench_admin')
    await cluster.query(`CREATE DATABASE catalog_bench OWNER ${admin.user}`)
    const env: Record<string, string> = {
      DATABASE_URL: cluster.url('catalog_bench', admin.user, admin.password),
      TENANTD_MASTER_KEY: SecretSealer.generateKeyring('bench1'),
      JWT_SECRET: 'bench-jwt-secret-0123456789-0123456789-abcdef',
      TENANTD_ADMIN_EMAIL: 'root@tenantd.bench',
      TENANTD_ADMIN_PASSWORD: 'root-password-1',
      TENANTD_BASE_DOMAIN: 'localhost',
      // BENCH_LOG_LEVEL (e.g. info: every operation step, timestamped) with BENCH_LOG_FILE to read them.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      // Nothing on a timer behind the measurements' back, and nothing written into the checkout:
      // no scheduled backups (nor a missed slot's catch-up), no size sampling, the Caddyfile
      // (rendered and validated on every routing change) in a temporary directory.
      TENANTD_BACKUP_SCHEDULE: 'off',
      TENANTD_SIZE_SAMPLE_MINUTES: '0',
      TENANTD_CADDYFILE: path.join(scratch, 'Caddyfile'),
      ...options.env,
    }
    const config = loadConfig(env)
    const warnings: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        if (process.env.BENCH_LOG_FILE) appendFileSync(process.env.BENCH_LOG_FILE, chunk)
        warnings.push(...String(chunk).split('\n').filter(Boolean))
        if (warnings.length > 1000) warnings.splice(0, warnings.length - 1000)
        done()
      },
    })
    const log: Logger = pino(loggerOptions(config.logLevel), sink)
    const tenantd = await startTenantd(config, log, { operations: { sweepMs: 60_000 } })
    teardowns.push(() => tenantd.close())
    await tenantd.hosts.register({ name: 'bench-host', host: '127.0.0.1', port: cluster.port, adminUser: admin.user, adminPassword: admin.password, isDefault: true })

    return {
      cluster,
      tenantd,
      config,
      warnings,
      async provisionMany(count, { plan, prefix, concurrency }) {
        const out: TenantRecord[] = new Array(count)
        let next = 0
        const worker = async (): Promise<void> => {
          for (;;) {
            const i = next++
            if (i >= count) return
            const slug = `${prefix}${i}`
            const { operation } = await tenantd.provisioner.request({ name: `Bench ${i}`, slug, plan, contactEmail: `${slug}@bench.test` })
            const done = await tenantd.operations.execute(operation.id)
            if (done.status !== 'succeeded') throw new Error(`provisioning ${slug} ended ${done.status}: ${JSON.stringify(done)}`)
            tenantd.tenants.invalidate(done.tenantId ?? '')
            out[i] = await tenantd.tenants.get(slug)
            if (out[i]!.status !== 'active') throw new Error(`tenant ${slug} is ${out[i]!.status} after provisioning`)
          }
        }
        await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
        return out
      },
      cleanup: cleanupAll,
    }
  } catch (error) {
    await cleanupAll()
    throw error
  }
}

/**
 * Runs a benchmark's `run` and exits: teardowns (registered by `run` as it starts things) run
 * in reverse order whatever happens, a watchdog ends a run that hangs, and a failure prints
 * its stack and exits 1.
 *
 * @example
 *   await benchMain('bench:move', 2_400_000, async (teardowns) => { ... })
 */
export async function benchMain(name: string, watchdogMs: number, run: (teardowns: Array<() => unknown>) => Promise<void>): Promise<never> {
  const teardowns: Array<() => unknown> = []
  const watchdog = setTimeout(() => {
    process.stdout.write(`${name}: watchdog (${watchdogMs / 1000} s) fired; giving up\n`)
    process.exit(1)
  }, watchdogMs)
  watchdog.unref()
  let failed = false
  try {
    await run(teardowns)
  } catch (error) {
    failed = true
    process.stdout.write(`${name} failed: ${(error as Error).stack ?? error}\n`)
  } finally {
    for (const fn of teardowns.reverse()) await Promise.resolve(fn()).catch(() => {})
  }
  process.exit(failed || process.exitCode ? 1 : 0)
}
