import t from 'tap'
import { startTestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { tenantClient, type TenantClient } from '../modules/module-test-helpers.js'

// Draining a db host: every active or suspended tenant is moved off it (bounded concurrency,
// one move each) under light traffic, none loses an acknowledged write, canceled tenants are
// named and left; a host is removed only once it holds no tenant.

t.setTimeout(600_000)

const h = await startHarness(t)
const second = await startTestCluster(t)
const db2Admin = await second.createAdminRole('tenantd_db2')
const registered = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
if (registered.statusCode !== 201) throw new Error(registered.body)

const slugs = Array.from({ length: 10 }, (_, i) => `drain${i}`)
for (const slug of slugs) {
  await h.provision({ name: slug, slug, adminEmail: `admin@${slug}.test`, adminPassword: `${slug}-password`, modules: ['price-basket'] })
}
await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/drain9/suspend', payload: { reason: 'unpaid' } })
await h.provision({ name: 'Gone', slug: 'gone' })
await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gone/cancel' })

/** Light traffic on two tenants: one supplier at a time; 503 (a move's freeze) is retried later. */
function writer(client: TenantClient) {
  const acknowledged = new Set<string>()
  let stop = false
  let frozen = 0
  const failures: string[] = []
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const res = await client.request('POST', '/api/price-basket/suppliers', { name: `drain supplier ${i}` })
      if (res.statusCode === 201) acknowledged.add(res.json().id)
      else if (res.statusCode === 503) frozen++
      else failures.push(`${res.statusCode} ${res.body}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  return {
    acknowledged,
    failures,
    frozen: () => frozen,
    async stop() {
      stop = true
      await done
    },
  }
}

t.test('drain --move: every tenant ends on the other host, no acknowledged write lost', async (t) => {
  const writers = [writer(await tenantClient(h, 'drain0', 'admin@drain0.test', 'drain0-password')), writer(await tenantClient(h, 'drain5', 'admin@drain5.test', 'drain5-password'))]
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts/test-host/drain', payload: { moveTenants: true, concurrency: 2 } })
  for (const w of writers) await w.stop()
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body, { moved: 10, failed: 0, skipped: 1, host: { name: 'test-host', status: 'draining', tenantCount: 1 } })
  t.same(
    body.tenants.filter((r: { status: string }) => r.status === 'moved').map((r: { tenant: string; to: string }) => `${r.tenant}>${r.to}`),
    slugs.map((s) => `${s}>db2`),
    'all ten moved to db2, the suspended one too'
  )
  t.match(body.tenants.find((r: { tenant: string }) => r.tenant === 'gone'), { status: 'skipped', error: /canceled/ })

  const db2 = (await h.asAdmin({ method: 'GET', url: '/api/admin/hosts/db2' })).json()
  t.equal(db2.tenantCount, 10)
  for (const [i, w] of writers.entries()) {
    t.same(w.failures, [], 'the writer saw no error but 503s')
    t.ok(w.acknowledged.size > 0, `writer ${i} wrote during the drain (${w.acknowledged.size} writes, ${w.frozen()} frozen answers)`)
    const slug = i === 0 ? 'drain0' : 'drain5'
    const client = await tenantClient(h, slug, `admin@${slug}.test`, `${slug}-password`)
    const ids = new Set<string>()
    for (let offset = 0; ; offset += 500) {
      const page = await client.request('GET', `/api/price-basket/suppliers?limit=500&offset=${offset}`)
      if (page.statusCode !== 200) throw new Error(page.body)
      const items = page.json().items as Array<{ id: string }>
      for (const s of items) ids.add(s.id)
      if (items.length < 500) break
    }
    t.ok([...w.acknowledged].every((id) => ids.has(id)), `every acknowledged write of ${slug} is on db2`)
    t.equal(ids.size, w.acknowledged.size, 'and nothing else')
  }
  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').selectAll().where('action', '=', 'host.drain_moved').execute()
  t.match(audit[0]?.details, { moved: 10, failed: 0, skipped: 1 })
})

t.test('a host is removed only once it holds no tenant', async (t) => {
  const refused = await h.asAdmin({ method: 'DELETE', url: '/api/admin/hosts/test-host' })
  t.equal(refused.statusCode, 409, refused.body)
  t.match(refused.json().message, /still holds 1 tenant: gone \(canceled\)/)
  t.match(refused.json().message, /hard-deleted or reactivated/)

  const empty = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db3', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
  t.equal(empty.statusCode, 201, empty.body)
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const hostsTable = await cli.run(['hosts', 'list'])
  t.equal(hostsTable.code, 0, showRun(hostsTable))
  t.match(hostsTable.stdout, /CONNECTIONS\s+TENANT DATA/)
  t.match(hostsTable.stdout, /db3 .* \d+\/\d+\s+0 B/, 'an empty host: its connections, no tenant data')
  const removed = await cli.run(['hosts', 'remove', 'db3'])
  t.equal(removed.code, 0, showRun(removed))
  t.match(removed.stdout, /Db host db3 removed/)
  const list = (await h.asAdmin({ method: 'GET', url: '/api/admin/hosts' })).json()
  t.same(list.items.map((x: { name: string }) => x.name).sort(), ['db2', 'test-host'], 'a removed host is not listed')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/hosts/db3' })).statusCode, 404)
  const again = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db3', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
  t.equal(again.statusCode, 201, 'its name can be registered again')
  const ready = await h.app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(ready.statusCode, 200, 'a removed host does not make the service unready')

  const drain = await cli.run(['hosts', 'drain', 'db3', '--move'])
  t.equal(drain.code, 0, showRun(drain))
  t.match(drain.stdout, /db3: 0 moved, 0 failed, 0 skipped; 0 tenants left on it/)
  const busy = await cli.run(['hosts', 'remove', 'db2'])
  t.equal(busy.code, 1, showRun(busy))
  t.match(busy.stderr, /still holds 10 tenants: drain0 \(active\)/)
})
