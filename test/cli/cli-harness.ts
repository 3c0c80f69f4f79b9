/*
 * Test harness for tenantctl: a stub tenantd on a real port that records requests and
 * answers contract-shaped JSON, and a runner that starts `bin/tenantctl.js` as a child
 * process (stdin a pipe, never a TTY) with its own config dir.
 */
import { execFile } from 'node:child_process'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { runTenantctlInProcess } from '../helpers/tenantctl-runner.js'

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: unknown
}

export interface StubReply {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

/** A route answer: fixed, or computed from the request (and how often the route was hit). */
export type StubRoute = StubReply | ((request: RecordedRequest, hit: number) => StubReply)

export interface Stub {
  url: string
  requests: RecordedRequest[]
  /** Requests to "METHOD /path". */
  calls(route: string): RecordedRequest[]
}

/**
 * Starts a stub tenantd on port 0. Routes are keyed "METHOD /path" (no query string);
 * anything else answers 404 `{error: 'NotFound'}`. Closed on teardown.
 */
export async function startStub(t: Test, routes: Record<string, StubRoute>): Promise<Stub> {
  const requests: RecordedRequest[] = []
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const text = Buffer.concat(chunks).toString('utf8')
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      }
      requests.push(recorded)
      const key = `${recorded.method} ${recorded.path}`
      const hit = (hits.get(key) ?? 0) + 1
      hits.set(key, hit)
      const route = routes[key]
      const reply: StubReply = !route
        ? { status: 404, body: { error: 'NotFound', message: `stub has no route ${key}` } }
        : typeof route === 'function'
          ? route(recorded, hit)
          : route
      const status = reply.status ?? 200
      const payload = reply.body === undefined ? '' : JSON.stringify(reply.body)
      res.writeHead(status, { ...(payload ? { 'content-type': 'application/json' } : {}), ...reply.headers })
      res.end(payload)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    calls: (route) => requests.filter((r) => `${r.method} ${r.path}` === route),
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

const launcher = fileURLToPath(new URL('../../bin/tenantctl.js', import.meta.url))

/**
 * Runs tenantctl with `args`, only the environment given (plus PATH) and `stdin` as its input,
 * in this process (test/helpers/tenantctl-runner.ts), or as `node bin/tenantctl.js` with
 * `spawn: true`.
 */
export function runTenantctl(args: string[], options: { env: Record<string, string>; stdin?: string; spawn?: boolean }): Promise<CliResult> {
  const env = { PATH: process.env.PATH ?? '', ...options.env }
  if (!options.spawn) return runTenantctlInProcess(args, env, options.stdin)
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [launcher, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      if (error && typeof error.code !== 'number') return reject(error)
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end(options.stdin ?? '')
  })
}

/**
 * A fresh config dir (optionally holding stored credentials) and the env that points
 * tenantctl at `stub`.
 */
export function cliEnv(
  t: Test,
  stub: { url: string },
  options: { credentials?: object; env?: Record<string, string> } = {},
) {
  const files: Record<string, string> = {}
  if (options.credentials) files['credentials.json'] = JSON.stringify(options.credentials)
  const configDir = t.testdir(files)
  return {
    configDir,
    env: { TENANTD_URL: stub.url, TENANTCTL_CONFIG_DIR: configDir, HOME: configDir, ...options.env },
  }
}

/** A tenant as the API shows it. */
export function tenantFixture(overrides: Record<string, unknown> = {}) {
  return {
    id: '0b5c6e1e-4a1f-4c2e-9a53-3f1e2d9b7c11',
    slug: 'acme',
    subdomain: 'acme',
    name: 'Acme Corp',
    contactEmail: 'ops@acme.test',
    plan: 'pro',
    status: 'active',
    statusReason: null,
    hostId: 'h-1',
    hostName: 'pg-main',
    database: 'tenant_acme',
    retentionDays: 30,
    canceledAt: null,
    deletedAt: null,
    createdAt: '2024-05-01T12:30:00.000Z',
    updatedAt: '2024-05-02T08:00:00.000Z',
    ...overrides,
  }
}

/** An operation as the API shows it. */
export function operationFixture(overrides: Record<string, unknown> = {}) {
  return {
    id: 'op-1',
    kind: 'provision',
    tenantId: '0b5c6e1e-4a1f-4c2e-9a53-3f1e2d9b7c11',
    status: 'running',
    step: 'createRole',
    progress: 10,
    error: null,
    attempts: 1,
    createdAt: '2024-05-01T12:30:00.000Z',
    updatedAt: '2024-05-01T12:30:01.000Z',
    finishedAt: null,
    ...overrides,
  }
}

/** Credentials as `tenantctl login` stores them. */
export function credentialsFixture(url: string, overrides: Record<string, unknown> = {}) {
  return {
    url,
    accessToken: 'access-1',
    refreshToken: 'refresh-1',
    email: 'root@tenantd.test',
    user: { id: 'u-1', email: 'root@tenantd.test', name: 'Root', role: 'super_admin', tenantId: null },
    ...overrides,
  }
}
