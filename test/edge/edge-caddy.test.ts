import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { readEdgeSnapshot } from '../../src/edge/edge-addresses.js'
import { defaultTemplatePath } from '../../src/edge/edge-config.js'
import { startCaddy } from '../helpers/caddy-process.js'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'

// Caddy (the real binary) in front of tenantd on loopback: tenants reachable by subdomain the
// moment provisioning ends, maintenance for suspended ones, 404 for deleted ones, bursts
// coalesced, broken templates refused, and a Caddy that was down catching up on its own.

const caddy = await startCaddy(t)
const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-edge-test-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const template = path.join(dir, 'Caddyfile.tmpl')
await copyFile(defaultTemplatePath, template)
const appPort = await freePort()
const h = await startHarness(t, {
  env: {
    TENANTD_CADDY: 'reload',
    TENANTD_CADDY_ADMIN: caddy.admin,
    TENANTD_EDGE_TLS: 'off',
    TENANTD_EDGE_HTTP_PORT: String(caddy.httpPort),
    TENANTD_EDGE_UPSTREAM: `127.0.0.1:${appPort}`,
    TENANTD_CADDY_TEMPLATE: template,
    TENANTD_DOMAIN_VERIFY_ADDRESS: `127.0.0.1:${caddy.httpPort}`,
  },
})
await h.app.listen({ port: appPort, host: '127.0.0.1' })
const { edge } = h.tenantd
const file = h.config.edge.file


/** GET /api/tenants/current through Caddy; a connection reset while Caddy swaps configs is retried. */
async function current(host: string): Promise<Awaited<ReturnType<typeof caddy.get>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await caddy.get(host, '/api/tenants/current')
    } catch (error) {
      if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error
    }
  }
}
/** Through Caddy, or undefined while Caddy does not listen on the sites' port (or resets a connection mid-reload). */
const tryCurrent = (host: string) => current(host).catch(() => undefined)
const provision = (slug: string) => h.provision({ name: slug, slug, adminEmail: `admin@${slug}.test`, adminPassword: 'edge-pass-123' })

t.test('provisioned tenants answer through Caddy by subdomain, with nothing done by hand', async (t) => {
  await provision('alpha')
  await provision('beta')
  for (const slug of ['alpha', 'beta']) {
    const res = await current(`${slug}.localhost`)
    t.equal(res.status, 200, `${slug}: ${res.text}`)
    t.equal(JSON.parse(res.text).slug, slug, `Host ${slug}.localhost reaches ${slug}`)
  }
  const status = await edge.status()
  t.match(status, { apply: 'reload', caddy: { found: true, reloads: 'on' }, upToDate: true, lastError: null })
  t.equal(status.generation.applied, status.generation.current, 'Caddy runs the current generation')

  await provision('gamma')
  // writeCaddyfile applies the new config before the operation succeeds: no waiting at all.
  const first = await current('gamma.localhost')
  t.equal(first.status, 200, `the third tenant answers through Caddy as soon as provisioning returns: ${first.text}`)
  t.equal(JSON.parse(first.text).slug, 'gamma')
})

t.test('a suspended tenant gets the maintenance answer; a deleted one is gone', async (t) => {
  const suspend = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/beta/suspend', payload: { reason: 'unpaid' } })
  t.equal(suspend.statusCode, 200)
  const maintenance = await waitFor('the maintenance page', async () => {
    const res = await tryCurrent('beta.localhost')
    return res?.status === 503 ? res : undefined
  })
  t.match(maintenance.text, /temporarily unavailable/, 'a maintenance page, never another tenant')
  t.equal(maintenance.headers.get('retry-after'), '3600')

  const del = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/delete', payload: { hardDelete: true, force: true } })
  t.ok([200, 202].includes(del.statusCode), del.body)
  const gone = await waitFor('gamma to be gone from Caddy', async () => {
    const res = await tryCurrent('gamma.localhost')
    return res?.status === 404 && res.text === 'Unknown address' ? res : undefined
  })
  t.match(gone.text, /Unknown address/, 'the catch-all answers 404')
  t.equal((await current('alpha.localhost')).status, 200, 'the others keep serving')
})

t.test('a burst of 100 routing changes causes a handful of reloads and ends matching the catalog', async (t) => {
  const before = (await edge.status()).reloads
  // beta is suspended: reactivate, suspend, ... 100 changes, ending active.
  for (let i = 0; i < 50; i++) {
    await h.tenantd.lifecycle.reactivate('beta')
    if (i < 49) await h.tenantd.lifecycle.suspend('beta')
  }
  await h.tenantd.lifecycle.suspend('alpha')
  await h.tenantd.lifecycle.reactivate('alpha')
  const after = await waitFor('the edge to catch up', async () => {
    const status = await edge.status()
    return status.upToDate && status.generation.applied === status.generation.current ? status : undefined
  })
  t.ok(after.reloads - before <= 5, `${after.reloads - before} reloads for 100 changes`)
  t.ok(after.reloads - before >= 1, 'and at least one')
  const expected = await edge.render(await readEdgeSnapshot(h.tenantd.catalog.db, 'localhost'))
  t.equal(await readFile(file, 'utf8'), expected, 'the file on disk is the render of the catalog as it is now')
  t.equal((await current('beta.localhost')).status, 200, 'beta (reactivated last) is served')
})

t.test('a custom domain is verified through Caddy, then routes to its tenant, until removed', async (t) => {
  const add = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/alpha/domains', payload: { domain: 'shop.alpha-corp.test' } })
  t.equal(add.statusCode, 201, add.body)
  t.equal((await current('shop.alpha-corp.test')).status, 404, 'pending: not routed yet')
  const verify = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/alpha/domains/shop.alpha-corp.test/verify' })
  t.equal(verify.statusCode, 200, `verified through Caddy's catch-all: ${verify.body}`)
  const routed = await waitFor('the domain to route', async () => {
    const res = await tryCurrent('shop.alpha-corp.test')
    return res?.status === 200 ? res : undefined
  })
  t.equal(JSON.parse(routed.text).slug, 'alpha', 'the verified domain reaches its tenant')
  // Caddy loads a render before it is renamed over the Caddyfile (an invalid one never
  // replaces the good file), so the domain answers a moment before the file shows its block.
  await waitFor('the domain to get its own site block', async () => (/http:\/\/shop\.alpha-corp\.test:\d+ \{/.test(await readFile(file, 'utf8')) ? true : undefined))
  t.pass('it has its own site block')
  const remove = await h.asAdmin({ method: 'DELETE', url: '/api/admin/tenants/alpha/domains/shop.alpha-corp.test' })
  t.equal(remove.statusCode, 204)
  await waitFor('the domain to be gone', async () => ((await tryCurrent('shop.alpha-corp.test'))?.status === 404 ? true : undefined))
  t.pass('removed: 404 again')
  // And the sync that Caddy answered from is done with the file too (the next test compares it).
  await waitFor('the block to leave the file', async () => (/shop\.alpha-corp\.test/.test(await readFile(file, 'utf8')) ? undefined : true))
  t.pass('and its block left the Caddyfile')
})

t.test('a broken template is refused: the good file stays, the error names the line, the operation and audit log record it', async (t) => {
  const good = await readFile(template, 'utf8')
  const fileBefore = await readFile(file, 'utf8')
  const lines = good.split('\n')
  const brokenLine = lines.findIndex((line) => line.trim() === '{{#served}}') + 1
  lines[brokenLine - 1] = '{{#served}} {{no_such_placeholder}}'
  await writeFile(template, lines.join('\n'))
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision?wait=true', payload: { name: 'delta', slug: 'delta', adminEmail: 'admin@delta.test', adminPassword: 'edge-pass-123' } })
  t.not(res.statusCode, 201, 'the provision does not end as if all was well')
  const ops = (await h.asAdmin({ method: 'GET', url: '/api/admin/operations?kind=provision&limit=5' })).json().items as Array<{ id: string; status: string; step: string; error: string | null; tenantId: string }>
  const op = ops.find((o) => o.status === 'failed' && o.step === 'writeCaddyfile')
  t.ok(op, 'the provision operation failed at writeCaddyfile')
  t.match(op?.error, new RegExp(`line ${brokenLine}: unknown placeholder "\\{\\{no_such_placeholder\\}\\}"`), 'its error names the template line')
  t.equal(await readFile(file, 'utf8'), fileBefore, 'the old Caddyfile is byte-identical')
  const status = await edge.status()
  t.match(status.lastError, new RegExp(`line ${brokenLine}`), 'the edge status names the error')
  const audit = (await h.asAdmin({ method: 'GET', url: '/api/audit-logs?limit=20' })).json()
  t.ok(audit.items.some((entry: { action: string; details: { error?: string } }) => entry.action === 'edge.render_failed' && entry.details.error?.includes(`line ${brokenLine}`)), 'the audit log records it')
  t.equal((await current('alpha.localhost')).status, 200, 'the good config keeps serving')

  await writeFile(template, good)
  const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${op!.id}/retry` })
  t.equal(retry.statusCode, 202, retry.body)
  await waitFor('delta through Caddy after the fix', async () => ((await tryCurrent('delta.localhost'))?.status === 200 ? true : undefined))
  await waitFor('the error to be cleared', async () => ((await edge.status()).lastError === null ? true : undefined))
  t.pass('the error is cleared once a render succeeds')
})

t.test('a render Caddy refuses is not loaded and not written: Caddy and the file keep the good config', async (t) => {
  const good = await readFile(template, 'utf8')
  const fileBefore = await readFile(file, 'utf8')
  // A template that renders (every placeholder known) into a Caddyfile Caddy refuses.
  await writeFile(template, good.replace('{{#served}}\n# {{tenant}}\n', '{{#served}}\n# {{tenant}}\n{{address}}.refused{{site_port}} {\n\tno_such_directive on\n}\n'))
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/edge/render' })
  t.equal(res.statusCode, 422, res.body)
  t.match(res.json().message, /no_such_directive/, 'the answer says what Caddy refused')
  t.equal(await readFile(file, 'utf8'), fileBefore, 'the old Caddyfile is byte-identical')
  // A background sync (a change notified by the test before) may be staging its own render
  // right now; it discards its file too. Left behind would mean there for good.
  await waitFor('only the Caddyfile in its directory', async () => {
    const names = await readdir(path.dirname(file))
    return names.length === 1 && names[0] === path.basename(file) ? names : undefined
  })
  t.pass('no temporary file is left behind')
  t.match((await edge.status()).lastError, /no_such_directive/, 'the edge status names the error')
  const audit = (await h.asAdmin({ method: 'GET', url: '/api/audit-logs?limit=20' })).json()
  t.ok(audit.items.some((entry: { action: string; details: { error?: string } }) => entry.action === 'edge.render_failed' && entry.details.error?.includes('no_such_directive')), 'the audit log records it')
  t.equal((await current('alpha.localhost')).status, 200, 'Caddy keeps running the good config')

  await writeFile(template, good)
  const fixed = await h.asAdmin({ method: 'POST', url: '/api/admin/edge/render' })
  t.equal(fixed.statusCode, 200, fixed.body)
  t.match(fixed.json(), { applied: true, status: { lastError: null, upToDate: true } }, 'fixed: applied, error cleared')
})

t.test('Caddy down: reloads fail, are reported and retried; Caddy back: the catalog state is applied by itself', async (t) => {
  await caddy.stop()
  await h.tenantd.lifecycle.suspend('alpha')
  const failing = await waitFor('the failed reload to be reported', async () => {
    const status = await edge.status()
    return status.lastError ? status : undefined
  })
  t.match(failing.lastError, /caddy reload .* failed/, `reported: ${failing.lastError}`)
  t.equal(failing.upToDate, false)
  const audit = (await h.asAdmin({ method: 'GET', url: '/api/audit-logs?limit=20' })).json()
  t.ok(audit.items.some((entry: { action: string }) => entry.action === 'edge.reload_failed'), 'the audit log records it')
  const epsilon = await provision('epsilon')
  t.equal(epsilon.status, 'active', 'a provision while Caddy is down still succeeds')
  t.match(await readFile(file, 'utf8'), /^http:\/\/epsilon\.localhost:\d+ \{$/m, 'and its block is in the file for Caddy to load')

  await caddy.start() // with a config of its own that knows no tenant
  const applied = await waitFor('the retry to apply the catalog', async () => {
    const res = await tryCurrent('alpha.localhost')
    return res?.status === 503 ? res : undefined
  })
  t.match(applied.text, /temporarily unavailable/, 'alpha (suspended while Caddy was down) gets the maintenance page')
  // Caddy serves the new config a moment before the syncer records that it did.
  const status = await waitFor('the edge status to show the recovery', async () => {
    const s = await edge.status()
    return s.lastError === null && s.generation.applied === s.generation.current ? s : undefined
  })
  t.ok(status.upToDate, 'the status shows the edge up to date again')
  t.equal((await current('beta.localhost')).status, 200, 'and beta is served again')
  t.equal(JSON.parse((await current('epsilon.localhost')).text).slug, 'epsilon', 'and the tenant provisioned while Caddy was down answers')
})
