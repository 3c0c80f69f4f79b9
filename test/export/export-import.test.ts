import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { databases, fingerprint, migrationsWithTestTable, resealed, seedExportTenant } from './export-test-helpers.js'

// Issue 8 item 9 (runbook 002, "Export Data"): a tenant exported as JSON and imported again,
// next to itself or on another tenantd, holds the same data; documents that are not whole
// exports are refused before anything is created; tenant admins export only their own tenant.

const migrations = await migrationsWithTestTable(t)
const h = await startHarness(t, { env: { TENANTD_TENANT_MIGRATIONS_DIR: migrations } })
const acme = await h.provision({ name: 'Acme Corp', slug: 'acme', contactEmail: 'boss@acme.test', adminEmail: 'admin@acme.test', adminPassword: 'acme-admin-pass', plan: 'pro', modules: ['price-basket'] })
const other = await h.provision({ name: 'Other', slug: 'other', adminEmail: 'admin@other.test', adminPassword: 'other-admin-pass' })
await seedExportTenant(h, acme.database)
const original = await fingerprint(h, acme.database)

const exported = await h.asAdmin({ method: 'GET', url: '/api/tenants/export?tenantId=acme' })
const document = exported.body

/** POSTs a document to the import route as the super-admin. */
const importDocument = (body: string, query = '') =>
  h.asAdmin({ method: 'POST', url: `/api/admin/tenants/restore${query}`, headers: { 'content-type': 'application/json' }, payload: body })

t.test('GET /api/tenants/export streams the tenant as one JSON document', async (t) => {
  t.equal(exported.statusCode, 200, exported.body.slice(0, 300))
  t.match(String(exported.headers['content-type']), /^application\/json/)
  t.match(String(exported.headers['content-disposition']), /attachment; filename="acme-export-\d{8}T\d{6}Z\.json"/)
  const doc = JSON.parse(document)
  t.match(doc, { format: 'tenantd-export', version: 1, tenant: { slug: 'acme', subdomain: 'acme', name: 'Acme Corp', contactEmail: 'boss@acme.test', plan: 'pro', modules: ['price-basket'] } })
  const names = doc.tables.map((table: { name: string }) => table.name)
  t.notOk(names.includes('public.tenant_migrations'), 'migrations are the "migrations" member, not a table')
  t.same(doc.migrations.map((m: { scope: string; name: string }) => `${m.scope}/${m.name}`), ['base/0001_base.sql', 'base/0900_export_notes.sql', 'price-basket/0001_price_basket.sql'])
  const before = (a: string, b: string) => t.ok(names.indexOf(a) < names.indexOf(b), `${a} comes before ${b}, which references it`)
  before('public.cp_fornecedores', 'public.cp_orcamentos')
  before('public.cp_orcamentos', 'public.cp_orcamento_itens')
  before('public.users', 'public.export_notes')
  const notes = doc.tables.find((table: { name: string }) => table.name === 'public.export_notes')
  t.notOk(notes.columns.includes('body_length'), 'generated columns are computed again, not exported')
  t.match(notes.rows[0], ['1', String, null, 'note 1\n line two'], 'values are text (or null) in primary-key order')
  t.same(doc.trailer.rows['public.cp_orcamento_itens'], 60)
  t.match(doc.trailer.sha256, /^[0-9a-f]{64}$/)
  t.match(doc.sequences, [{ name: 'public.export_invoice_numbers', lastValue: '1006', isCalled: true }, { name: 'public.export_notes_id_seq' }])
  // No secret of tenantd's: the role password, sealed secrets, operator credentials.
  const record = await h.tenantd.tenants.get('acme')
  t.notOk(document.includes(h.tenantd.sealer.open(record.password_sealed)), 'the role password is not in the export')
  t.notOk(/password_sealed|sealed|root-password|accessToken/i.test(document), 'no sealed secrets or operator credentials')
  t.ok(document.split('\n').length > 100, 'one row per line, readable with head and grep')
  t.notOk(h.logLines.some((line) => line.includes(h.tenantd.sealer.open(record.password_sealed))), 'nor in the log')
})

t.test('both routes are in the OpenAPI document', async (t) => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json()
  const exportOp = doc.paths['/api/tenants/export']?.get
  const importOp = doc.paths['/api/admin/tenants/restore']?.post
  t.match(exportOp, { tags: ['backups'], summary: /runbook 002/ })
  t.ok(exportOp.responses['200'].content['application/json'], 'the export is described as application/json')
  t.match(importOp, { tags: ['backups'], summary: /runbook 002/, requestBody: { content: { 'application/json': {} } } })
  t.ok(importOp.responses['201'] && importOp.responses['409'], '201 and the refusals are documented')
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
  t.same(refs.filter((name) => !(name in doc.components.schemas)), [], 'no dangling $ref')
})

t.test('an export imported next to the original holds the same data', async (t) => {
  const res = await importDocument(document, '?slug=acme-copy&name=Acme%20Copy')
  t.equal(res.statusCode, 201, res.body)
  const { tenant, tables, rows } = res.json()
  t.match(tenant, { slug: 'acme-copy', subdomain: 'acme-copy', name: 'Acme Copy', status: 'active', plan: 'pro', contactEmail: 'boss@acme.test' })
  t.equal(rows, 21 + 3 + 30 + 12 + 60 + 20, 'every row of every table was loaded')
  t.match(tables, [{ name: 'public.cp_fornecedores', rows: 30 }])
  t.same(await fingerprint(h, tenant.database), original, 'every table and sequence matches, row for row')
  const modules = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme-copy/modules' })
  t.match(modules.body, /price-basket/, 'the modules of the export are installed')
  const next = await h.cluster.query<{ id: string }>(`insert into export_notes (body) values ('after import') returning id`, [], tenant.database)
  t.equal(Number(next.rows[0]!.id), 21, 'the identity continues after the imported rows (20 of them)')
  const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'acme-copy.localhost' }, payload: { email: 'admin@acme.test', password: 'acme-admin-pass' } })
  t.equal(login.statusCode, 200, 'the tenant admin logs in to the copy with the same password')
  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').select(['action']).where('tenant_id', '=', tenant.id).execute()
  t.ok(audit.some((a) => a.action === 'tenant.import'), 'the import is audited')
})

t.test('another tenantd (its own catalog and keys) imports the export', async (t) => {
  const second = await startHarness(t, { cluster: h.cluster, env: { TENANTD_TENANT_MIGRATIONS_DIR: migrations } })
  const res = await second.asAdmin({ method: 'POST', url: '/api/admin/tenants/restore?slug=acme-moved', headers: { 'content-type': 'application/json' }, payload: document })
  t.equal(res.statusCode, 201, res.body)
  t.same(await fingerprint(h, res.json().tenant.database), original)
})

t.test('line breaks stripped on the way (curl -d @file) do not matter', async (t) => {
  const res = await importDocument(document.replace(/\n/g, ''), '?slug=acme-flat')
  t.equal(res.statusCode, 201, res.body)
  t.same(await fingerprint(h, res.json().tenant.database), original)
})

t.test('documents that are not whole exports are refused and create nothing', async (t) => {
  const dbsBefore = await databases(h)
  const cases: Array<[string, string, number, RegExp]> = [
    ['empty', '', 400, /empty/],
    ['foreign JSON', '{"hello":"world","tables":[]}', 400, /not a tenantd export/],
    ['a JSON array', '[1,2,3]', 400, /not a tenantd export/],
    ['another version', document.replace('"version":1', '"version":2'), 400, /version 2; this tenantd reads version 1/],
    ['truncated in the middle', document.slice(0, Math.floor(document.length / 2)), 400, /truncated/],
    ['truncated inside the trailer', document.slice(0, document.length - 20), 400, /truncated/],
    ['closed without a trailer', `${document.slice(0, document.lastIndexOf(',"trailer":'))}}`, 400, /no trailer/],
    ['a changed value', document.replace('Fornecedor 7"', 'Fornecedor 8"'), 400, /damaged: its content does not match the SHA-256/],
    ['a deleted row', withoutLine(document, '"Fornecedor 7"'), 400, /damaged: public\.cp_fornecedores holds 29 rows but its trailer says 30/],
    ['broken JSON', document.replace('"name":"public.users"', '"name":public.users"'), 400, /not valid: an unexpected byte/],
    ['a row of the wrong width', resealed(document, (c) => c.replace('"Fornecedor 7",', '')), 400, /has 7 values for 8 columns/],
  ]
  for (const [what, body, status, message] of cases) {
    const res = await importDocument(body, '?slug=refused')
    t.equal(res.statusCode, status, `${what}: ${res.body}`)
    t.match(res.json(), { error: 'InvalidExport', message }, what)
  }
  const rows = await h.catalogQuery(`select slug from tenants where slug = 'refused'`)
  t.equal(rows.rowCount, 0, 'no tenant record was ever made')
  t.same(await databases(h), dbsBefore, 'no database was created')
})

t.test('exports made by newer code, and taken slugs, are refused with 409', async (t) => {
  const dbsBefore = await databases(h)
  const future = await importDocument(document.replace('"migrations":[', '"migrations":[{"scope":"base","name":"9999_future.sql","checksum":"x"},'), '?slug=future')
  t.equal(future.statusCode, 409, future.body)
  t.match(future.json(), { error: 'ExportNewerThanCode', message: /base\/9999_future\.sql/ })

  // A table no migration of this tenantd makes: found once the new database exists, which is then removed again.
  const widgets = resealed(document, (c) => c.replace('],"sequences":', ',{"name":"public.widgets","columns":["id"],"types":["int"],"rows":[["1"]]}],"sequences":'), (rows) => (rows['public.widgets'] = 1))
  const unknown = await importDocument(widgets, '?slug=widgets')
  t.equal(unknown.statusCode, 409, unknown.body)
  t.match(unknown.json(), { error: 'ExportNewerThanCode', message: /public\.widgets/ })
  const live = await h.catalogQuery(`select slug from tenants where slug in ('future', 'widgets') and purged_at is null`)
  t.equal(live.rowCount, 0, 'no live tenant is left')
  t.same(await databases(h), dbsBefore, 'the database of the rolled-back import is gone')

  const taken = await importDocument(document)
  t.equal(taken.statusCode, 409, taken.body)
  t.match(taken.json(), { error: 'TenantExists', message: /"acme" already exists/ })
})

t.test('a tenant admin exports their own tenant only', async (t) => {
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'ops@acme.test', password: 'acme-ops-password', role: 'tenant_admin', tenant: 'acme' } })
  t.equal(created.statusCode, 201, created.body)
  const { accessToken } = await h.login('ops@acme.test', 'acme-ops-password')
  const as = (url: string) => h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${accessToken}` } })
  const own = await as(`/api/tenants/export?tenantId=${acme.id}`)
  t.equal(own.statusCode, 200)
  t.equal(JSON.parse(own.body).tenant.slug, 'acme')
  t.equal((await as('/api/tenants/export')).statusCode, 200, 'without tenantId: their own tenant')
  const foreign = await as(`/api/tenants/export?tenantId=${other.id}`)
  t.equal(foreign.statusCode, 403)
  t.match(foreign.json(), { error: 'Forbidden' })
  t.equal((await as('/api/tenants/export?tenantId=other')).statusCode, 403, 'by slug too')
  t.equal((await h.app.inject({ method: 'POST', url: '/api/admin/tenants/restore', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, payload: own.body })).statusCode, 403, 'only super-admins import')
  t.equal((await h.app.inject({ method: 'GET', url: '/api/tenants/export?tenantId=acme' })).statusCode, 401, 'no token, no export')

  const user = await h.login('admin@acme.test', 'acme-admin-pass', { host: 'acme.localhost' })
  const byUser = await h.app.inject({ method: 'GET', url: '/api/tenants/export', headers: { authorization: `Bearer ${user.accessToken}` } })
  t.equal(byUser.statusCode, 200, "the tenant's own admin user exports it too (tenant settings, Export Data)")
  const byUserOther = await h.app.inject({ method: 'GET', url: `/api/tenants/export?tenantId=${other.id}`, headers: { authorization: `Bearer ${user.accessToken}` } })
  t.equal(byUserOther.statusCode, 403)
})

t.test('tenantctl export and import, through a file', async (t) => {
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-export-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'acme.json')
  const exportRun = await cli.run(['export', 'acme', '-o', file])
  t.equal(exportRun.code, 0, showRun(exportRun))
  t.match(exportRun.stdout, /exported acme: 6 tables, \d+ rows/)
  t.equal((await stat(file)).mode & 0o777, 0o600, 'the file is private (it holds password hashes)')
  t.equal(JSON.parse(await readFile(file, 'utf8')).trailer.rows['public.settings'], 3)

  const importRun = await cli.run(['import', file, '--slug', 'acme-cli', '--name', 'Acme CLI'])
  t.equal(importRun.code, 0, showRun(importRun))
  t.match(importRun.stdout, /imported .* as acme-cli: 6 tables/)
  const copy = await h.tenantd.tenants.get('acme-cli')
  t.same(await fingerprint(h, copy.database_name), original, 'same data after a round trip through tenantctl')

  const again = await cli.run(['import', file, '--slug', 'acme-cli'])
  t.equal(again.code, 1, showRun(again))
  t.match(again.stderr, /already exists/)
  const stdoutRun = await cli.run(['export', 'other'])
  t.equal(stdoutRun.code, 0, showRun(stdoutRun))
  t.equal(JSON.parse(stdoutRun.stdout).tenant.slug, 'other', 'without -o the document goes to stdout')
})

/** The document without the row line holding `marker` (and the comma that separated it). */
function withoutLine(doc: string, marker: string): string {
  const lines = doc.split('\n')
  const at = lines.findIndex((line) => line.includes(marker))
  if (!lines[at]!.endsWith(',')) lines[at - 1] = lines[at - 1]!.replace(/,$/, '')
  lines.splice(at, 1)
  return lines.join('\n')
}

