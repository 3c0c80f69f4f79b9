import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { runServerToExit, startServerProcess, type ServerProcess } from '../helpers/server-process.js'

// `npm start` with nothing configured but a data dir: an embedded PostgreSQL, generated
// secrets kept in the data dir, a first super-admin whose password is printed once, and a
// second start that reuses all of it. Invalid configuration stops the start with one line.

const root = await mkdtemp(path.join(tmpdir(), 'tenantd-embedded-'))
// The embedded server runs as the postgres system user, which must reach its data dir.
await chmod(root, 0o755)
const dataDir = path.join(root, 'data')
const pidFile = path.join(dataDir, 'pg', 'postmaster.pid')

/** The postmaster's pid from its pid file, if the file exists. */
async function postmasterPid(): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined
  const first = (await readFile(pidFile, 'utf8')).split('\n')[0]
  return first ? Number(first) : undefined
}

/** Whether a process runs. A zombie does not: it has exited, and only waits for its parent
 * (here PID 1 of the machine, which may never reap it) to collect its status. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}

t.teardown(async () => {
  // Whatever happened above, no postgres of this data dir outlives the test.
  const pid = await postmasterPid().catch(() => undefined)
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGINT')
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100))
  }
  await rm(root, { recursive: true, force: true })
})

const embeddedEnv = async () => ({ TENANTD_DATA_DIR: dataDir, PORT: String(await freePort()), CI: 'true' })

async function api(server: ServerProcess, method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text }
}

const PASSWORD_LINE = /Password \(shown once, store it now\): (\S+)/g
let password = ''
const tenantAdmin = { email: 'owner@embedco.test', password: 'embedco-owner-pass' }

t.test('first start: embedded PostgreSQL, generated secrets, password printed once', async (t) => {
  const server = await startServerProcess(t, { env: await embeddedEnv(), inheritEnv: false, timeoutMs: 60_000 })
  const printed = [...server.stdout().matchAll(PASSWORD_LINE)]
  t.equal(printed.length, 1, 'the generated super-admin password is printed exactly once')
  password = printed[0]?.[1] ?? ''
  t.ok(password.length >= 16, 'a long random password')
  t.match(server.stdout(), /First super-admin created: admin@tenantd\.local/, 'the email to log in with is printed too')
  t.equal(server.stdout().split(password).length - 1, 1, 'the password appears nowhere else in the output (not in JSON log lines)')
  t.notOk(server.stderr().includes(password), 'nor on stderr')

  const health = await api(server, 'GET', '/api/health')
  t.equal(health.status, 200)
  t.equal(health.body.status, 'ok')
  const ready = await api(server, 'GET', '/api/ready')
  t.equal(ready.status, 200, ready.text)
  t.match(ready.body, { status: 'ready', catalog: { ok: true }, hosts: [{ name: 'embedded', ok: true }] }, 'the embedded cluster is the default db host')

  const keyMode = (await stat(path.join(dataDir, 'master.key'))).mode & 0o777
  t.equal(keyMode.toString(8), '600', 'master.key is readable by its owner only')
  t.match((await readFile(path.join(dataDir, 'master.key'), 'utf8')).trim(), /^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+$/, 'master.key holds a kid:base64key keyring')
  t.equal(((await stat(path.join(dataDir, 'embedded.json'))).mode & 0o777).toString(8), '600', 'embedded.json (pg and jwt secrets) is owner-only too')
  t.ok(existsSync(path.join(dataDir, 'pg', 'PG_VERSION')), 'the cluster lives under <dataDir>/pg')

  const wrong = await api(server, 'POST', '/api/auth/login', { body: { email: 'admin@tenantd.local', password: 'not-the-password' } })
  t.equal(wrong.status, 401, 'a wrong password is refused')
  const login = await api(server, 'POST', '/api/auth/login', { body: { email: 'admin@tenantd.local', password } })
  t.equal(login.status, 200, `login with the printed password: ${login.text}`)
  const token = login.body.accessToken as string
  t.equal(login.body.user.role, 'super_admin')

  const provisioned = await api(server, 'POST', '/api/admin/tenants/provision?wait=true', {
    token,
    body: { name: 'Embed Co', slug: 'embedco', adminEmail: tenantAdmin.email, adminPassword: tenantAdmin.password, plan: 'pro' },
  })
  t.equal(provisioned.status, 201, provisioned.text)
  t.match(provisioned.body?.tenant, { slug: 'embedco', status: 'active', hostName: 'embedded', database: 'tenant_embedco' })
  const tenantLogin = await api(server, 'POST', '/api/auth/login', { headers: { 'x-tenant-id': 'embedco' }, body: tenantAdmin })
  t.equal(tenantLogin.status, 200, `the tenant admin logs in from the tenant database: ${tenantLogin.text}`)
  const users = await api(server, 'GET', '/api/users', { token: tenantLogin.body?.accessToken })
  t.equal(users.status, 200, users.text)

  const pgPid = await postmasterPid()
  t.ok(pgPid && alive(pgPid), 'the embedded postmaster runs')
  const exit = await server.stop('SIGINT')
  t.same(exit, { code: 0, signal: null }, `SIGINT stops tenantd cleanly (stderr: ${server.stderr().slice(-500)})`)
  t.notOk(existsSync(pidFile), 'postmaster.pid is gone: PostgreSQL was shut down')
  t.notOk(pgPid && alive(pgPid), 'no postgres process is left for the data dir')
  t.notMatch(server.stdout(), /"level":50/, 'no error was logged while running or stopping')
  t.notMatch(server.stdout(), /catalog connection lost|listener lost its connection/, 'PostgreSQL stopped only after tenantd had closed its connections')
})

t.test('second start reuses the data dir: same tenants, same password, no new password printed', async (t) => {
  t.ok(password, 'the first start printed a password')
  const keyBefore = await readFile(path.join(dataDir, 'master.key'), 'utf8')
  const server = await startServerProcess(t, { env: await embeddedEnv(), inheritEnv: false, timeoutMs: 60_000 })
  t.equal([...server.stdout().matchAll(PASSWORD_LINE)].length, 0, 'no password is printed again')
  t.notMatch(server.stdout(), /First super-admin created/)
  t.equal(await readFile(path.join(dataDir, 'master.key'), 'utf8'), keyBefore, 'the master key is kept')

  const login = await api(server, 'POST', '/api/auth/login', { body: { email: 'admin@tenantd.local', password } })
  t.equal(login.status, 200, `the password from the first start still works: ${login.text}`)
  const list = await api(server, 'GET', '/api/admin/tenants', { token: login.body?.accessToken })
  t.equal(list.status, 200)
  t.same(list.body.items.map((x: { slug: string }) => x.slug), ['embedco'], 'the tenant is still listed')
  t.equal(list.body.items[0].status, 'active')
  const probe = await api(server, 'POST', '/api/admin/tenants/embedco/test-connection', { token: login.body?.accessToken })
  t.match(probe.body, { ok: true }, 'its sealed role password still opens with the kept master key')
  const tenantLogin = await api(server, 'POST', '/api/auth/login', { headers: { 'x-tenant-id': 'embedco' }, body: tenantAdmin })
  t.equal(tenantLogin.status, 200, `its users still log in: ${tenantLogin.text}`)
  const hosts = await api(server, 'GET', '/api/admin/hosts', { token: login.body?.accessToken })
  t.equal(hosts.body.items.length, 1, 'the embedded host is not registered twice')

  const pgPid = await postmasterPid()
  const exit = await server.stop('SIGINT')
  t.same(exit, { code: 0, signal: null }, 'SIGINT stops it cleanly again')
  t.notOk(existsSync(pidFile), 'postmaster.pid is gone')
  t.notOk(pgPid && alive(pgPid), 'no postgres left')
})

t.test('invalid configuration stops the start with one line naming the variable', async (t) => {
  const otherDir = path.join(root, 'never-created')
  const cases: Array<{ what: string; env: Record<string, string>; variable: string }> = [
    { what: 'DATABASE_URL without a master key', env: { DATABASE_URL: 'postgres://tenantd:pw@127.0.0.1:1/catalog', JWT_SECRET: 'x'.repeat(40) }, variable: 'TENANTD_MASTER_KEY' },
    { what: 'a port that is not a number', env: { PORT: 'abc' }, variable: 'PORT' },
    { what: 'a port out of range', env: { PORT: '70000' }, variable: 'PORT' },
    { what: 'a DATABASE_URL that is not a postgres URL', env: { DATABASE_URL: 'mysql://localhost/db' }, variable: 'DATABASE_URL' },
    {
      what: 'a malformed master key',
      env: { DATABASE_URL: 'postgres://tenantd:pw@127.0.0.1:1/catalog', TENANTD_MASTER_KEY: 'garbage', JWT_SECRET: 'x'.repeat(40) },
      variable: 'TENANTD_MASTER_KEY',
    },
    { what: 'a short JWT secret', env: { JWT_SECRET: 'short' }, variable: 'JWT_SECRET' },
  ]
  // Three at a time: each run loads the whole server through tsx before it reads its config.
  const runs: Array<Awaited<ReturnType<typeof runServerToExit>>> = []
  for (let i = 0; i < cases.length; i += 3) {
    runs.push(...(await Promise.all(cases.slice(i, i + 3).map(({ env }) => runServerToExit({ TENANTD_DATA_DIR: otherDir, CI: 'true', PORT: '0', ...env }, 60_000)))))
  }
  for (const [index, { what, variable }] of cases.entries()) {
    const run = runs[index]!
    t.not(run.code, 0, `${what}: exits non-zero (${run.code})`)
    t.not(run.code, null, `${what}: exits on its own`)
    const lines = run.stderr.trim().split('\n')
    t.equal(lines.length, 1, `${what}: one line on stderr: ${run.stderr.trim().slice(0, 300)}`)
    t.match(lines[0], new RegExp(`\\b${variable}\\b`), `${what}: the line names ${variable}`)
    t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`)
    t.notMatch(run.stdout, /Password/, `${what}: nothing started`)
  }
  t.notOk(existsSync(otherDir), 'no data dir was created by a start that was refused')
})
