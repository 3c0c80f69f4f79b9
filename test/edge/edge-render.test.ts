import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parseTemplate, renderTemplate, TemplateError } from '../../src/edge/caddyfile-template.js'
import { startHarness } from '../helpers/harness.js'
import { startServerProcess } from '../helpers/server-process.js'

// Rendering the Caddyfile from the catalog: the template language's errors name the line,
// renders of 0, 1 and 1,000 tenants pass the real `caddy validate`, and two replicas changing
// routing at once never leave anything but one complete, valid render on disk.

const run = promisify(execFile)
const scratch = await mkdtemp(path.join(tmpdir(), 'tenantd-render-'))
t.teardown(() => rm(scratch, { recursive: true, force: true }))

/** `caddy validate` of a Caddyfile's text. */
async function validate(content: string): Promise<void> {
  const file = path.join(scratch, `check-${Math.random().toString(36).slice(2)}.caddyfile`)
  await writeFile(file, content)
  try {
    await run('caddy', ['validate', '--config', file, '--adapter', 'caddyfile'])
  } finally {
    await rm(file, { force: true })
  }
}

const h = await startHarness(t)
const { edge } = h.tenantd
const file = h.config.edge.file

t.test('template errors name the line and say what is wrong', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['a\n{{#served}}\nb\n', /line 2: "\{\{#served\}\}" is never closed/],
    ['a\nb {{/served}}\n', /line 2: "\{\{\/served\}\}" closes a section that was never opened/],
    ['{{#served}}\n{{/maintenance}}\n', /line 2: "\{\{\/maintenance\}\}" closes "\{\{#served\}\}" opened on line 1/],
    ['x\ny\n{{ oops\n', /line 3: an opening "\{\{" has no closing "\}\}"/],
  ]
  for (const [source, error] of cases) t.throws(() => parseTemplate(source), error)
  t.throws(() => renderTemplate(parseTemplate('a\n{{nope}}\n'), {}), new TemplateError(2, 'unknown placeholder "{{nope}}"; the placeholders are listed at the top of Caddyfile.tmpl'))
  t.throws(() => renderTemplate(parseTemplate('{{served}}'), { served: [] }), /is a list/)
  const out = renderTemplate(parseTemplate('## a template comment {{#ignored}}\n{{#served}}\n{{address}} {\n}\n{{/served}}\n{{^maintenance}}\nnone\n{{/maintenance}}\n'), {
    served: [{ address: 'a.example.com' }, { address: 'b.example.com' }],
    maintenance: [],
  })
  t.equal(out, 'a.example.com {\n}\nb.example.com {\n}\nnone\n', 'sections repeat, standalone tags leave no blank lines, ## lines vanish')
})

t.test('0, 1 and 1,000 tenants render to a file Caddy accepts', async (t) => {
  await edge.syncNow()
  const empty = await readFile(file, 'utf8')
  await validate(empty)
  t.notMatch(empty, /^\S+\.localhost \{$/m, 'no tenant block')
  t.match(empty, /^localhost \{$/m, 'the control host block')

  await h.provision({ name: 'One', slug: 'one' })
  const one = await readFile(file, 'utf8')
  await validate(one)
  t.match(one, /^one\.localhost \{$/m, 'the tenant has its block (TLS on by default: no scheme, no port)')

  const host = await h.tenantd.catalog.db.selectFrom('db_hosts').select('id').executeTakeFirstOrThrow()
  await h.catalogQuery(
    `insert into tenants (slug, subdomain, name, contact_email, plan_id, status, host_id, database_name, role_name, password_sealed)
     select 'bulk' || i, 'bulk' || i, 'Bulk ' || i, 'bulk' || i || '@x.test', 'free', case when i % 10 = 0 then 'suspended' else 'active' end, $1,
            'tenant_bulk' || i, 'tenant_bulk' || i || '_owner', 'unused'
       from generate_series(1, 999) i`,
    [host.id]
  )
  const result = await edge.syncNow()
  t.equal(result.generation, (await edge.status()).generation.current, 'rendered at the current generation')
  const many = await readFile(file, 'utf8')
  await validate(many)
  t.equal(many.match(/^\S+\.localhost \{$/gm)?.length, 1_000, '1,000 tenant blocks')
  t.equal(many.match(/respond "This site is temporarily unavailable/g)?.length, 99, 'suspended tenants get the maintenance answer')
  const status = await edge.status()
  t.match(status, { apply: 'off', caddy: { reloads: 'off' }, upToDate: true, addresses: 1_000 })
  t.equal(status.generation.rendered, status.generation.current)
})

t.test('two replicas changing routing at once: the file is always one complete, valid render', async (t) => {
  const replica = await startServerProcess(t, { env: { ...h.env, LOG_LEVEL: 'warn' }, timeoutMs: 90_000 })
  const token = await h.adminToken()
  const viaReplica = (slug: string, action: string) =>
    fetch(`${replica.url}/api/admin/tenants/${slug}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  const samples = new Set<string>()
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      samples.add(await readFile(file, 'utf8'))
      await new Promise((r) => setImmediate(r))
    }
  })()
  const here = (async () => {
    for (let i = 0; i < 15; i++) {
      await h.tenantd.lifecycle.suspend('bulk1')
      await h.tenantd.lifecycle.reactivate('bulk1')
    }
  })()
  const there = (async () => {
    for (let i = 0; i < 15; i++) {
      t.equal((await viaReplica('bulk2', 'suspend')).status, 200)
      t.equal((await viaReplica('bulk2', 'reactivate')).status, 200)
    }
  })()
  await Promise.all([here, there])
  // Both replicas sync once more after their last change; wait until the file matches the catalog.
  const deadline = Date.now() + 60_000
  while ((await edge.status()).generation.rendered < (await edge.status()).generation.current && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  await edge.syncNow()
  sampling = false
  await sampler
  t.ok(samples.size >= 2, `${samples.size} different files seen while they worked`)
  for (const sample of samples) {
    t.match(sample, /\n\thandle \{\n\t\trespond "Unknown address" 404\n\t\}\n\}\n$/, 'each sample is whole: it ends with the catch-all block')
    await validate(sample)
  }
  t.pass(`all ${samples.size} samples pass caddy validate`)
  const final = await readFile(file, 'utf8')
  t.match(final, /^bulk1\.localhost \{\n\timport tenantd/m, 'bulk1 ends served')
  t.match(final, /^bulk2\.localhost \{\n\timport tenantd/m, 'bulk2 ends served')
})
