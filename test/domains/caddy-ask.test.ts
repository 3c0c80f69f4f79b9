import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import v8 from 'node:v8'
import vm from 'node:vm'
import pg from 'pg'
import t from 'tap'
import { caddyAskFastPath } from '../../src/http/routes/caddy-ask-routes.js'
import { startHarness } from '../helpers/harness.js'
import { startEdgeStandIn } from './edge-stand-in.js'

// Caddy's on-demand TLS check (GET /api/caddy/ask?domain=) and the tenant directory under a
// flood of random names: 200 only for active tenants' addresses, 404 for everything else and
// never a 5xx, only for proxy peers, no catalog query per call, memory flat.

const edge = await startEdgeStandIn(t)
// No sweeper ticks during the test: every catalog query counted below is one the code under
// test made.
const h = await startHarness(t, { env: { TENANTD_DOMAIN_VERIFY_ADDRESS: edge.address }, operations: { sweepMs: 3_600_000 } })
await h.app.listen({ host: '127.0.0.1', port: 0 })
edge.upstreamPort = (h.app.server.address() as AddressInfo).port
const { app, tenantd } = h

await h.provision({ name: 'Acme', slug: 'acme', adminEmail: 'admin@acme.test', adminPassword: 'acme-admin-pass' })
await h.provision({ name: 'Sleepy', slug: 'sleepy' })
await h.provision({ name: 'Gone', slug: 'gone' })
await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/sleepy/suspend', payload: { reason: 'unpaid' } })
await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gone/cancel' })
for (const domain of ['shop.acme.test', 'pending.acme.test', 'shop.sleepy.test']) {
  const added = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/' + domain.split('.')[1] + '/domains', payload: { domain } })
  if (added.statusCode !== 201) throw new Error(added.body)
}
for (const domain of ['shop.acme.test', 'shop.sleepy.test']) {
  const verified = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${domain.split('.')[1]}/domains/${domain}/verify` })
  if (verified.statusCode !== 200) throw new Error(verified.body)
}

const ask = (domain: string | undefined, remoteAddress = '127.0.0.1', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: domain === undefined ? '/api/caddy/ask' : `/api/caddy/ask?domain=${domain}`, remoteAddress, headers })

/** Catalog queries made by this process: every Kysely query checks a client out of the catalog pool. */
let catalogQueries = 0
tenantd.catalog.pool.on('acquire', () => {
  catalogQueries++
})
/**
 * Reads of a tenant record (the directory's select, recognisable by its modules aggregate):
 * other parts of tenantd (the edge syncer's generation check, the operation sweeper) share the
 * catalog pool, so the single-flight check below counts these alone.
 */
let recordReads = 0
const clientQuery = pg.Client.prototype.query
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: unknown } | undefined)?.text
  if (typeof text === 'string' && text.includes('from tenant_modules m where m.tenant_id = t.id')) recordReads++
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args)
} as typeof pg.Client.prototype.query
t.teardown(() => {
  pg.Client.prototype.query = clientQuery
})

t.test('200 only for addresses of active tenants', async (t) => {
  for (const domain of ['acme.localhost', 'ACME.LocalHost', 'acme.localhost.', 'shop.acme.test', 'Shop.Acme.Test.']) {
    const res = await ask(encodeURIComponent(domain))
    t.equal(res.statusCode, 200, `${domain}: ${res.body}`)
    t.match(res.json(), { allowed: true })
  }
  t.equal((await ask('acme.localhost', '::1')).statusCode, 200, 'from ::1 (IPv6 loopback, a default proxy address)')
  t.equal((await ask('acme.localhost', '::ffff:127.0.0.1')).statusCode, 200, 'from an IPv4-mapped loopback address')
})

t.test('404 for everything else, never a 5xx, nothing echoed', async (t) => {
  const names: Array<[string | undefined, string]> = [
    ['nope.localhost', 'unknown subdomain'],
    ['sleepy.localhost', 'suspended tenant'],
    ['shop.sleepy.test', "suspended tenant's verified domain"],
    ['gone.localhost', 'canceled tenant'],
    ['pending.acme.test', 'pending domain'],
    ['unknown.example.com', 'unknown domain'],
    ['x.acme.localhost', 'deeper subdomain'],
    ['localhost', 'the bare base domain (control host)'],
    ['127.0.0.1', 'an IP address'],
    ['', 'empty'],
    [undefined, 'no domain parameter'],
    ['acme.localhost&domain=shop.acme.test', 'the parameter twice'],
    ['a'.repeat(5000), 'very long'],
    ['acme.localhost%00', 'NUL'],
    ['%00', 'only NUL'],
    [encodeURIComponent('bücher.example'), 'unicode'],
    [encodeURIComponent('ａｃｍｅ.localhost'), 'full-width unicode lookalike'],
    [encodeURIComponent('../../etc/passwd'), 'path traversal'],
    [encodeURIComponent('acme.localhost/../admin'), 'traversal after a real name'],
    [encodeURIComponent("acme' or '1'='1"), 'SQL'],
    ['%ZZ', 'broken percent-encoding'],
    [encodeURIComponent('*.localhost'), 'wildcard'],
  ]
  for (const [domain, what] of names) {
    const res = await ask(domain)
    t.equal(res.statusCode, 404, `${what}: ${res.body.slice(0, 200)}`)
    t.equal(res.json().error, 'NotFound', what)
    if (domain && domain.length > 20) t.notOk(res.body.includes(domain.slice(0, 20)), `${what}: not echoed`)
  }
})

t.test("over a socket, Caddy's asks skip fastify and get the route's answers byte for byte", async (t) => {
  const port = (app.server.address() as AddressInfo).port
  const overSocket = async (query: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/caddy/ask${query}`)
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
  }
  // The fast path alone, in a server of its own: it answers Caddy's shape and nothing else.
  const fast = caddyAskFastPath(tenantd.config.trustedProxies, (domain) => app.tenantResolver.addressOf(domain))
  const alone = http.createServer((request, response) => {
    if (!fast(request, response)) response.writeHead(599).end()
  })
  await new Promise<void>((resolve) => alone.listen(0, '127.0.0.1', resolve))
  t.teardown(() => alone.close())
  const alonePort = (alone.address() as AddressInfo).port
  const answered = async (query: string) => (await fetch(`http://127.0.0.1:${alonePort}/api/caddy/ask${query}`)).status !== 599

  const caddyShaped = ['acme.localhost', 'ACME.LocalHost', 'acme.localhost.', 'shop.acme.test', encodeURIComponent('Shop.Acme.Test.'), 'nope.localhost', 'sleepy.localhost', 'shop.sleepy.test', 'gone.localhost', 'pending.acme.test', '', encodeURIComponent('bücher.example'), encodeURIComponent('../../etc/passwd'), encodeURIComponent("acme' or '1'='1"), 'a+b.localhost']
  for (const domain of caddyShaped) {
    const viaInject = await ask(domain)
    const viaSocket = await overSocket(`?domain=${domain}`)
    t.equal(viaSocket.status, viaInject.statusCode, `${domain}: the same status`)
    t.equal(viaSocket.body, viaInject.body, `${domain}: the same body`)
    t.equal(viaSocket.type, viaInject.headers['content-type'], `${domain}: the same content type`)
    t.ok(await answered(`?domain=${domain}`), `${domain}: answered by the fast path`)
  }
  // Every other shape goes through the route, which answers as before.
  for (const query of ['', '?domain=acme.localhost&domain=shop.acme.test', '?domain=acme.localhost%00', '?domain=%ZZ', `?domain=${'a'.repeat(5000)}`, '?other=1&domain=acme.localhost']) {
    t.notOk(await answered(query), `${query.slice(0, 40) || '(no query)'}: left to the route`)
    const viaSocket = await overSocket(query)
    t.equal(viaSocket.status, query.endsWith('other=1&domain=acme.localhost') ? 200 : 404, `${query.slice(0, 40) || '(no query)'}: the route's answer`)
  }
})

t.test('refused (403) for peers that are not proxies, whatever they claim', async (t) => {
  for (const [peer, headers] of [
    ['10.0.0.5', {}],
    ['192.0.2.1', { 'x-forwarded-for': '127.0.0.1' }],
    ['2001:db8::1', { 'x-real-ip': '127.0.0.1' }],
  ] as const) {
    const res = await ask('acme.localhost', peer, headers)
    t.equal(res.statusCode, 403, `${peer} ${JSON.stringify(headers)}`)
    t.equal(res.json().error, 'Forbidden')
    t.match(res.json().message, /TENANTD_TRUSTED_PROXIES/)
    t.equal((await ask('nope.localhost', peer)).statusCode, 403, 'the same answer for unknown names: no enumeration')
  }
})

t.test('a flood of a million random names: no catalog query per name, memory flat', async (t) => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const { tenants } = tenantd
  const resolver = app.tenantResolver
  // Warm the hit path, so reads that hits legitimately cost happen before counting.
  await tenants.find('acme')
  await tenants.findByDomain('shop.acme.test')
  const before = tenants.stats()
  t.ok(before.authoritative, 'the directory index is loaded')

  const random = (i: number): string => {
    const label = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x')
    switch (i % 4) {
      case 0:
        return `${label}.localhost`
      case 1:
        return `${label}.example.com`
      case 2:
        return `${label}.${randomBytes(4).toString('hex')}.test`
      default:
        return label
    }
  }
  await tenantd.edge.syncNow() // settle the edge's own catalog work from the setup above
  const queries0 = catalogQueries
  const heap: number[] = []
  const started = Date.now()
  const BATCHES = 10
  const PER_BATCH = 100_000
  let names = 0
  let found = 0
  for (let batch = 0; batch < BATCHES; batch++) {
    for (let i = 0; i < PER_BATCH; i++) {
      const name = random(i)
      names++
      // The ask path, the Host path (subdomain and custom domain), and X-Tenant-ID / token keys.
      if (resolver.addressOf(name)) found++
      switch (i % 4) {
        case 0:
          if (tenants.peekSubdomain(name.slice(0, -'.localhost'.length)) !== null) found++
          break
        case 1:
          if ((await tenants.findByDomain(name)) !== null) found++
          break
        case 2:
          if (resolver.resolveFromCache({ host: name, tenantHeader: undefined, principal: null }) !== undefined) found++
          break
        default:
          if ((await tenants.find(name)) !== null) found++
      }
    }
    gc()
    heap.push(process.memoryUsage().heapUsed)
  }
  // And some of it over HTTP, as Caddy and as tenant traffic. Each request adds log lines to
  // the harness's in-memory log sink; those are the test's, so they are dropped before measuring.
  const httpHeap: number[] = []
  // Injected requests release their objects only once the event loop has turned (later still on
  // a busy machine): collect until the heap stops shrinking, a condition rather than a delay.
  const settledHeap = async (): Promise<number> => {
    let last = Number.POSITIVE_INFINITY
    for (let turn = 0; turn < 500; turn++) {
      await new Promise((resolve) => setImmediate(resolve))
      h.logLines.length = 0
      gc()
      const used = process.memoryUsage().heapUsed
      if (turn >= 3 && last - used < 256 * 1024) return used
      last = used
    }
    return last
  }
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < 2_000; i++) {
      if ((await ask(random(i))).statusCode !== 404) found++
      if ((await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { host: random(i) } })).statusCode === 200) found++
    }
    httpHeap.push(await settledHeap())
  }
  const seconds = (Date.now() - started) / 1000
  const queries = catalogQueries - queries0
  const mb = (n: number) => (n / 1_048_576).toFixed(1)
  t.comment(`${names} names + 12 000 HTTP requests in ${seconds.toFixed(1)} s; catalog queries ${queries}; heap after each batch (MB): ${heap.map(mb).join(' ')}; after each HTTP batch: ${httpHeap.map(mb).join(' ')}`)
  t.equal(found, 0, 'no random name was routable')
  // The pool also serves the rest of tenantd (the edge syncer's periodic re-check may fall in
  // this window): what must not happen is a query per name.
  t.ok(queries < 20, `${queries} catalog queries in all for a million unknown names: none per name`)
  const settled = heap.slice(1)
  t.ok(Math.max(...settled) - Math.min(...settled) < 8 * 1_048_576, `heap flat within 8 MB after the first batch (spread ${mb(Math.max(...settled) - Math.min(...settled))} MB)`)
  t.ok(Math.max(...httpHeap) - Math.min(...httpHeap) < 8 * 1_048_576, `heap flat within 8 MB across the HTTP batches (spread ${mb(Math.max(...httpHeap) - Math.min(...httpHeap))} MB)`)
  t.same(tenants.stats(), before, 'the directory remembers nothing of the names asked (same tenants, domains and cached records)')

  // Hits still cost at most one read per tenant, shared by concurrent first requests.
  tenants.invalidate((await tenants.find('acme'))!.id)
  await tenants.settled()
  const q0 = recordReads
  const all = await Promise.all(Array.from({ length: 50 }, () => tenants.findBySubdomain('acme')))
  t.ok(all.every((r) => r?.slug === 'acme'), '50 concurrent first lookups find acme')
  t.equal(recordReads - q0, 1, 'with one catalog read of the record')
  t.equal((await ask('acme.localhost')).statusCode, 200, 'and the ask check still answers 200 for acme')
})
