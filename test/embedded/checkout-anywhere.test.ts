import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { copyCheckout } from '../helpers/checkout-copy.js'
import { runServerToExit, startServerProcess } from '../helpers/server-process.js'

// `npm ci && npm start` from a checkout in a directory only its owner may enter (root's 0700
// home, a `mktemp -d` directory), as the machine's user (root in CI): the embedded PostgreSQL
// still starts and serves. And one data directory has one owner: a second start is refused
// and the running one is untouched.

const parent = await mkdtemp(path.join(tmpdir(), 'tenantd-0700-'))
t.equal(((await stat(parent)).mode & 0o777).toString(8), '700', 'the checkout sits below a 0700 directory')
const checkout = await copyCheckout(parent)
const dataDir = path.join(checkout, '.tenantd')
let clusterDir: string | undefined
t.teardown(async () => {
  if (clusterDir && clusterDir !== path.join(dataDir, 'pg')) await rm(clusterDir, { recursive: true, force: true })
  await rm(parent, { recursive: true, force: true })
})

t.test('npm start from a 0700 directory serves and provisions', async (t) => {
  // No TENANTD_DATA_DIR: the default ./.tenantd of the checkout, as `npm start` there would use.
  const first = await startServerProcess(t, { env: { PORT: String(await freePort()), CI: 'true' }, inheritEnv: false, cwd: checkout, timeoutMs: 90_000 })
  const state = JSON.parse(await readFile(path.join(dataDir, 'embedded.json'), 'utf8')) as { clusterDir?: string }
  clusterDir = state.clusterDir ?? path.join(dataDir, 'pg')
  if (userInfo().uid === 0) {
    t.ok(state.clusterDir?.startsWith('/var/lib/tenantd/clusters/'), `as root the cluster lives where the postgres user can reach it (${state.clusterDir})`)
    t.equal(((await stat(path.join(dataDir, 'master.key'))).mode & 0o777).toString(8), '600', 'the secrets stay readable by their owner only')
  }
  t.ok(existsSync(path.join(clusterDir, 'PG_VERSION')), 'the cluster exists')

  const health = await fetch(`${first.url}/api/health`)
  t.equal(health.status, 200)
  const password = /Password \(shown once, store it now\): (\S+)/.exec(first.stdout())?.[1]
  t.ok(password, 'the first super-admin password was printed')
  const login = await fetch(`${first.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@tenantd.local', password }) })
  t.equal(login.status, 200)
  const { accessToken } = (await login.json()) as { accessToken: string }
  const provision = await fetch(`${first.url}/api/admin/tenants/provision?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ name: 'Anywhere Co', slug: 'anywhere', adminEmail: 'admin@anywhere.test', adminPassword: 'anywhere-pass' }),
  })
  t.equal(provision.status, 201, await provision.clone().text())
  t.match(((await provision.json()) as { tenant: unknown }).tenant, { slug: 'anywhere', status: 'active' })

  t.test('a second start on the same data dir is refused and the first keeps serving', async (t) => {
    for (const port of [await freePort(), first.port]) {
      const second = await runServerToExit({ PORT: String(port), CI: 'true' }, 90_000, checkout)
      t.not(second.code, 0, `refused (PORT ${port === first.port ? 'the same' : 'another'}), exit ${second.code}`)
      const lines = second.stderr.trim().split('\n')
      t.equal(lines.length, 1, `one line: ${second.stderr.trim()}`)
      t.match(lines[0], new RegExp(`data directory .*\\.tenantd is in use by tenantd \\(pid ${first.child.pid}, serving ${first.url.replace(/\./g, '\\.')}\\)`), 'it names the running process and its address')
    }
    const current = await fetch(`${first.url}/api/tenants/current`, { headers: { 'x-tenant-id': 'anywhere' } })
    t.equal(current.status, 200, 'the first instance still serves its tenant')
    const ready = await fetch(`${first.url}/api/ready`)
    t.equal(ready.status, 200, 'and its PostgreSQL is still up')
    const state = JSON.parse(readFileSync(path.join(dataDir, 'embedded.json'), 'utf8')) as { port: number }
    t.equal((await readFile(path.join(clusterDir!, 'postmaster.pid'), 'utf8')).split('\n')[3], String(state.port), 'embedded.json still names the running PostgreSQL port')
  })

  t.test('stopping it frees the data dir for the next start', async (t) => {
    t.same(await first.stop('SIGINT'), { code: 0, signal: null }, 'Ctrl-C stops it cleanly')
    t.notOk(existsSync(path.join(clusterDir!, 'postmaster.pid')), 'PostgreSQL stopped with it')
    const again = await startServerProcess(t, { env: { PORT: String(await freePort()), CI: 'true' }, inheritEnv: false, cwd: checkout, timeoutMs: 90_000 })
    const current = await fetch(`${again.url}/api/tenants/current`, { headers: { 'x-tenant-id': 'anywhere' } })
    t.equal(current.status, 200, 'the next start serves the same tenant')
    t.same(await again.stop('SIGINT'), { code: 0, signal: null })
  })
})
