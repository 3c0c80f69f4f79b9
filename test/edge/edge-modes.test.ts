import { readFile } from 'node:fs/promises'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { startCaddy } from '../helpers/caddy-process.js'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'

// The other ways of applying: Caddy's admin API (POST /load), no caddy on the machine at all,
// and the on-demand mode's single block.

t.test('admin-api mode: the config reaches Caddy through POST /load', async (t) => {
  const caddy = await startCaddy(t)
  const appPort = await freePort()
  const h = await startHarness(t, {
    env: {
      TENANTD_CADDY: 'admin-api',
      TENANTD_CADDY_ADMIN: caddy.admin,
      TENANTD_EDGE_TLS: 'off',
      TENANTD_EDGE_HTTP_PORT: String(caddy.httpPort),
      TENANTD_EDGE_UPSTREAM: `127.0.0.1:${appPort}`,
    },
  })
  await h.app.listen({ port: appPort, host: '127.0.0.1' })
  await h.provision({ name: 'Api Co', slug: 'apico' })
  const res = await caddy.get('apico.localhost', '/api/tenants/current')
  t.equal(res.status, 200, res.text)
  t.equal(JSON.parse(res.text).slug, 'apico', 'the tenant answers through Caddy as soon as provisioning returns')
  t.match(await h.tenantd.edge.status(), { apply: 'admin-api', caddy: { reloads: 'on' }, upToDate: true, lastError: null })
})

t.test('no caddy on the machine: the file is still written, and the status says reloads are off', async (t) => {
  const h = await startHarness(t, { env: { TENANTD_CADDY: 'reload', TENANTD_CADDY_BIN: '/nonexistent/caddy' } })
  await h.provision({ name: 'No Caddy', slug: 'nocaddy' })
  t.match(await readFile(h.config.edge.file, 'utf8'), /^nocaddy\.localhost \{$/m, 'the rendered file has the tenant')
  const status = (await h.asAdmin({ method: 'GET', url: '/api/admin/edge' })).json()
  t.match(status, { apply: 'reload', caddy: { found: false, version: null, reloads: 'off' }, lastError: null })
  t.equal(status.generation.rendered, status.generation.current, 'rendered up to date')
})

t.test('on-demand mode: one block for every tenant, Caddy asks tenantd before a certificate', async (t) => {
  const h = await startHarness(t, { env: { TENANTD_EDGE_MODE: 'on-demand', TENANTD_EDGE_UPSTREAM: '127.0.0.1:5999' } })
  await h.provision({ name: 'Demand', slug: 'demand' })
  await waitFor('the render', async () => ((await h.tenantd.edge.status()).generation.rendered > 0 ? true : undefined))
  const file = await readFile(h.config.edge.file, 'utf8')
  t.match(file, /on_demand_tls \{\n\t\task http:\/\/127\.0\.0\.1:5999\/api\/caddy\/ask\n\t\}/, 'Caddy asks tenantd')
  t.match(file, /^https:\/\/ \{\n\ttls \{\n\t\ton_demand\n\t\}/m, 'one block serves every name, with certificates on demand')
  t.notMatch(file, /demand\.localhost/, 'no block per tenant: a new tenant needs no reload')
  t.equal((await h.tenantd.edge.status()).lastError, null, 'caddy validate accepted it')
})
