import http from 'node:http'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { startEdgeStandIn } from './edge-stand-in.js'

// The operator's path through the real tenantctl: add a domain (instructions printed), list,
// verify (through an edge stand-in forwarding to tenantd), reach the tenant by that Host,
// change its subdomain, remove the domain; failures exit non-zero with the server's advice.

const edge = await startEdgeStandIn(t)
const h = await startHarness(t, { env: { TENANTD_DOMAIN_VERIFY_ADDRESS: edge.address } })
const cli = await tenantctlAgainst(h, t)
edge.upstreamPort = Number(new URL(cli.url).port)
const tenantctl = cli.run
await h.provision({ name: 'Santa Rita', slug: 'santarita', adminEmail: 'admin@santarita.test', adminPassword: 'santarita-pass' })
const login = await tenantctl(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
if (login.code !== 0) throw new Error(showRun(login))

/** GET /api/tenants/current over HTTP with this Host (fetch would not send our Host). */
const currentSlug = (host: string) =>
  new Promise<string | number>((resolve, reject) => {
    const request = http.get(`${cli.url}/api/tenants/current`, { headers: { host } }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { slug: string }).slug : res.statusCode!))
    })
    request.on('error', reject)
  })

t.test('tenantctl domains add | list | verify | remove', async (t) => {
  const add = await tenantctl(['domains', 'add', 'santarita', 'Portal.SantaRita.Test'])
  t.equal(add.code, 0, showRun(add))
  t.match(add.stdout, /portal\.santarita\.test added to santarita \(pending\)/)
  t.match(add.stdout, /Point portal\.santarita\.test at the edge/)
  t.match(add.stdout, /http:\/\/portal\.santarita\.test\/\.well-known\/tenantd\/[A-Za-z0-9_-]{43}/)
  t.match(add.stdout, /tenantctl domains verify santarita portal\.santarita\.test/)

  const list = await tenantctl(['domains', 'list', 'santarita'])
  t.equal(list.code, 0, showRun(list))
  t.match(list.stdout, /DOMAIN\s+STATUS/)
  t.match(list.stdout, /portal\.santarita\.test\s+pending/)

  edge.mode = 'not-found'
  const failed = await tenantctl(['domains', 'verify', 'santarita', 'portal.santarita.test'])
  edge.mode = 'forward'
  t.equal(failed.code, 1, 'a failed verification exits 1')
  t.match(failed.stderr, /could not be verified: .*answered 404/)
  t.match(failed.stderr, /Point portal\.santarita\.test at this edge/)
  t.equal(await currentSlug('portal.santarita.test'), 404, 'not routed while pending')

  const verify = await tenantctl(['domains', 'verify', 'santarita', 'portal.santarita.test'])
  t.equal(verify.code, 0, showRun(verify))
  t.match(verify.stdout, /portal\.santarita\.test verified/)
  t.equal(await currentSlug('portal.santarita.test'), 'santarita', 'the domain reaches santarita')

  const json = await tenantctl(['domains', 'list', 'santarita', '--json'])
  t.equal(json.code, 0)
  t.match(JSON.parse(json.stdout), { items: [{ domain: 'portal.santarita.test', status: 'verified' }] })

  const bad = await tenantctl(['domains', 'add', 'santarita', '*.santarita.test'])
  t.equal(bad.code, 1, 'a refused name exits 1')
  t.match(bad.stderr, /wildcards are not supported/)

  const remove = await tenantctl(['domains', 'remove', 'santarita', 'portal.santarita.test'])
  t.equal(remove.code, 0, showRun(remove))
  t.match(remove.stdout, /portal\.santarita\.test removed from santarita/)
  t.equal(await currentSlug('portal.santarita.test'), 404, 'gone after remove')
  const empty = await tenantctl(['domains', 'list', 'santarita'])
  t.match(empty.stdout, /No custom domains for santarita/)
})

t.test('tenantctl update --subdomain moves the address', async (t) => {
  t.equal(await currentSlug('santarita.localhost'), 'santarita')
  const update = await tenantctl(['update', 'santarita', '--subdomain', 'santa-rita', '--name', 'Prefeitura de Santa Rita'])
  t.equal(update.code, 0, showRun(update))
  t.match(update.stdout, /subdomain santa-rita, name "Prefeitura de Santa Rita"/)
  t.equal(await currentSlug('santa-rita.localhost'), 'santarita', 'the new address answers')
  t.equal(await currentSlug('santarita.localhost'), 404, 'the old one does not')
  const nothing = await tenantctl(['update', 'santarita'])
  t.equal(nothing.code, 2, 'nothing to change is a usage error')
})
