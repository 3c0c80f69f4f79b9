import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { startCaddy } from '../helpers/caddy-process.js'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { waitFor } from '../helpers/wait-for.js'

// The operator's view of the edge through the real tenantctl: `edge status` (table and --json),
// `edge render`, `edge reload` against a real Caddy, a reload that fails exits non-zero with
// what to check; and the edge endpoints are for super admins only.

const caddy = await startCaddy(t)
const appPort = await freePort()
const h = await startHarness(t, {
  env: {
    TENANTD_CADDY: 'reload',
    TENANTD_CADDY_ADMIN: caddy.admin,
    TENANTD_EDGE_TLS: 'off',
    TENANTD_EDGE_HTTP_PORT: String(caddy.httpPort),
    TENANTD_EDGE_UPSTREAM: `127.0.0.1:${appPort}`,
  },
})
// Caddy proxies to this process: it must listen where the rendered Caddyfile points.
await h.app.listen({ port: appPort, host: '127.0.0.1' })
const cli = await tenantctlAgainst(h, t)
const tenantctl = cli.run
await h.provision({ name: 'Acme', slug: 'acme' })
const login = await tenantctl(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
if (login.code !== 0) throw new Error(showRun(login))

t.test('tenantctl edge status | render | reload', async (t) => {
  const status = await tenantctl(['edge', 'status'])
  t.equal(status.code, 0, showRun(status))
  t.match(status.stdout, /Apply:\s+reload/)
  t.match(status.stdout, /Mode:\s+blocks/)
  t.match(status.stdout, new RegExp(`File:\\s+${h.config.edge.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  t.match(status.stdout, new RegExp(`Caddy:\\s+\\d+\\.\\d+\\S* \\(admin ${caddy.admin}, reloads on\\)`))
  t.match(status.stdout, /Generation:\s+(\d+) current, \1 rendered, \1 applied/, 'the provision left Caddy at the current generation')
  t.match(status.stdout, /State:\s+up to date/)
  t.match(status.stdout, /Last error:\s+none/)

  const json = await tenantctl(['edge', 'status', '--json'])
  t.equal(json.code, 0, showRun(json))
  const body = JSON.parse(json.stdout)
  t.match(body, { apply: 'reload', mode: 'blocks', file: h.config.edge.file, caddy: { found: true, reloads: 'on' }, upToDate: true, lastError: null })
  t.ok(body.reloads >= 1, 'the provision reloaded Caddy')

  const render = await tenantctl(['edge', 'render'])
  t.equal(render.code, 0, showRun(render))
  t.match(render.stdout, /Generation \d+: the Caddyfile was already current; Caddy runs it/)

  const reload = await tenantctl(['edge', 'reload', '--json'])
  t.equal(reload.code, 0, showRun(reload))
  t.match(JSON.parse(reload.stdout), { applied: true, status: { upToDate: true } })
  t.equal((await caddy.get('acme.localhost', '/api/health')).status, 200, 'Caddy serves the tenant')
})

t.test('a reload Caddy cannot take exits 1 and says what to check', async (t) => {
  await caddy.stop()
  const reload = await tenantctl(['edge', 'reload'])
  t.equal(reload.code, 1, showRun(reload))
  t.match(reload.stderr, /Caddy did not take it: caddy reload through .* failed/)
  t.match(reload.stderr, /TENANTD_CADDY_ADMIN/)
  const status = await tenantctl(['edge', 'status'])
  t.match(status.stdout, /State:\s+behind the catalog/)
  t.match(status.stdout, /Last error:\s+caddy reload through/)

  await caddy.start()
  // Caddy came back with a config of its own: the background retry gives it the catalog's.
  await waitFor('the retry to apply', async () => ((await caddy.get('acme.localhost', '/api/health').catch(() => undefined))?.status === 200 ? true : undefined))
  await waitFor('the status to clear', async () => ((await h.tenantd.edge.status()).lastError === null ? true : undefined))
  t.pass('recovered with no manual step')
})

t.test('the edge endpoints are for super admins', async (t) => {
  t.equal((await h.app.inject({ method: 'GET', url: '/api/admin/edge' })).statusCode, 401, 'no token')
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'ops@acme.test', password: 'acme-ops-password', role: 'tenant_admin', tenant: 'acme' } })
  t.equal(created.statusCode, 201, created.body)
  const { accessToken } = await h.login('ops@acme.test', 'acme-ops-password')
  for (const [method, url] of [['GET', '/api/admin/edge'], ['POST', '/api/admin/edge/render'], ['POST', '/api/admin/edge/reload']] as const) {
    const res = await h.app.inject({ method, url, headers: { authorization: `Bearer ${accessToken}` } })
    t.equal(res.statusCode, 403, `${method} ${url}: a tenant admin is refused`)
  }
})
