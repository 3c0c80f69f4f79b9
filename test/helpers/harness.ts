import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type pg from 'pg'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { loggerOptions, pino, type Logger } from '../../src/logger.js'
import type { OperationRunnerOptions } from '../../src/operations/operation-runner.js'
import { SecretSealer } from '../../src/secrets/secret-sealer.js'
import type { Tenant } from '../../src/tenancy/tenant-directory.js'
import { startTenantd, type Tenantd } from '../../src/tenantd.js'
import { startTestCluster, type TestCluster } from './cluster.js'

export interface Harness {
  app: FastifyInstance
  tenantd: Tenantd
  cluster: TestCluster
  config: Config
  /** Every log line written so far (JSON strings), for secret-leak checks. */
  logLines: string[]
  superAdmin: { email: string; password: string }
  /** The environment the harness started tenantd with (to start a second process alike). */
  env: Record<string, string>
  /** The catalog database's name. */
  catalogDb: string
  /** The catalog database as the cluster's superuser (test-only triggers, direct reads). */
  catalogUrl: string
  /** Runs SQL on the catalog database as the cluster's superuser. */
  catalogQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
  /** Logs in (operator, or tenant user when headers name a tenant); fails the test on non-200. */
  login(email: string, password: string, headers?: Record<string, string>): Promise<{ accessToken: string; refreshToken: string }>
  /** A super-admin access token (cached). */
  adminToken(): Promise<string>
  /** Provisions a tenant through the API and waits for it; returns the tenant. */
  provision(body: Record<string, unknown>): Promise<Tenant>
  /** app.inject with the super-admin's token. */
  asAdmin(options: InjectOptions): Promise<LightMyRequestResponse>
}

export interface HarnessOptions {
  env?: Record<string, string>
  operations?: Partial<OperationRunnerOptions>
  /** Use this cluster instead of starting one. */
  cluster?: TestCluster
}

interface TapLike {
  teardown(fn: () => unknown): void
}

/**
 * A running tenantd over a throwaway PostgreSQL cluster: catalog database and a db host
 * reached as a CREATEDB/CREATEROLE (not superuser) role, like production.
 *
 * @example
 *   const h = await startHarness(t)
 *   const tenant = await h.provision({ name: 'Acme', slug: 'acme', adminEmail: 'a@acme.test', adminPassword: 'secret-pass' })
 */
export async function startHarness(t: TapLike, options: HarnessOptions = {}): Promise<Harness> {
  const cluster = options.cluster ?? (await startTestCluster(t))
  const admin = await cluster.createAdminRole(`tenantd_admin_${Math.random().toString(36).slice(2, 8)}`)
  const catalogDb = `catalog_${Math.random().toString(36).slice(2, 8)}`
  await cluster.query(`CREATE DATABASE ${catalogDb} OWNER ${admin.user}`)
  const superAdmin = { email: 'root@tenantd.test', password: 'root-password-1' }
  const edgeDir = await mkdtemp(path.join(tmpdir(), 'tenantd-edge-'))
  const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
  t.teardown(() => Promise.all([rm(edgeDir, { recursive: true, force: true }), rm(backupDir, { recursive: true, force: true })]))
  const env: Record<string, string> = {
    DATABASE_URL: cluster.url(catalogDb, admin.user, admin.password),
    TENANTD_MASTER_KEY: SecretSealer.generateKeyring('test1'),
    JWT_SECRET: 'test-jwt-secret-0123456789-0123456789-abcdef',
    TENANTD_ADMIN_EMAIL: superAdmin.email,
    TENANTD_ADMIN_PASSWORD: superAdmin.password,
    TENANTD_BASE_DOMAIN: 'localhost',
    TENANTD_AUTH_RATE_LIMIT: '1000',
    LOG_LEVEL: 'info',
    TENANTD_OPERATION_STALE_MS: '2000',
    // Each harness renders its own Caddyfile (never one in the checkout); no Caddy to reload.
    TENANTD_CADDY: 'off',
    // No scheduled backups unless a test asks: a catch-up at start would race the test's own operations.
    TENANTD_BACKUP_SCHEDULE: 'off',
    // No size sampling on a timer: a test that needs samples takes them (tenantd.sizeHistory.sampleDue).
    TENANTD_SIZE_SAMPLE_MINUTES: '0',
    TENANTD_CADDYFILE: path.join(edgeDir, 'Caddyfile'),
    // Backups (a hard delete's final one too) go to this harness's own directory, never the checkout.
    TENANTD_BACKUP_STORAGE: backupDir,
    ...options.env,
  }
  const config = loadConfig(env)
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const log: Logger = pino(loggerOptions(config.logLevel), sink)
  const tenantd = await startTenantd(config, log, { operations: { sweepMs: 500, ...options.operations } })
  await tenantd.hosts.register({ name: 'test-host', host: '127.0.0.1', port: cluster.port, adminUser: admin.user, adminPassword: admin.password, isDefault: true })
  const app = await buildApp(tenantd)
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await tenantd.close()
  })

  let token: string | undefined
  const harness: Harness = {
    app,
    tenantd,
    cluster,
    config,
    logLines,
    superAdmin,
    env,
    catalogDb,
    catalogUrl: cluster.url(catalogDb),
    catalogQuery: (text, values) => cluster.query(text, values, catalogDb),
    async login(email, password, headers = {}) {
      const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers, payload: { email, password } })
      if (res.statusCode !== 200) throw new Error(`login of ${email} failed: ${res.statusCode} ${res.body}`)
      return res.json()
    },
    async adminToken() {
      token ??= (await harness.login(superAdmin.email, superAdmin.password)).accessToken
      return token
    },
    async provision(body) {
      const res = await harness.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision?wait=true', payload: body })
      if (res.statusCode !== 201) throw new Error(`provision failed: ${res.statusCode} ${res.body}`)
      return res.json().tenant
    },
    async asAdmin(options) {
      const bearer = await harness.adminToken()
      return app.inject({ ...options, headers: { ...(options.headers ?? {}), authorization: `Bearer ${bearer}` } })
    },
  }
  return harness
}
