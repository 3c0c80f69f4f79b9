import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { eventually, tenantClient } from './module-test-helpers.js'

// Runbook 003's module lifecycle on a real tenant database: install the price basket on
// santarita, repair a dropped cp_* table by reinstalling, uninstall keeping the data,
// uninstall with purge, module permissions of tenant users, and modules at provisioning.

const h = await startHarness(t)
await h.provision({ name: 'Prefeitura de Santa Rita', slug: 'santarita', adminEmail: 'admin@santarita.test', adminPassword: 'santarita-password' })
await h.provision({ name: 'Prefeitura de Gurupi', slug: 'gurupi', adminEmail: 'admin@gurupi.test', adminPassword: 'gurupi-password' })
const santarita = await tenantClient(h, 'santarita', 'admin@santarita.test', 'santarita-password')
const gurupi = await tenantClient(h, 'gurupi', 'admin@gurupi.test', 'gurupi-password')

const install = (tenant: string, module: string) => h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${tenant}/modules/${module}?wait=true` })
const uninstall = (tenant: string, module: string, purge = false) => h.asAdmin({ method: 'DELETE', url: `/api/admin/tenants/${tenant}/modules/${module}?wait=true${purge ? '&purge=true' : ''}` })
const cpTables = async () =>
  (await h.cluster.query<{ tablename: string }>("select tablename from pg_tables where tablename like 'cp_%' order by 1", [], 'tenant_santarita')).rows.map((r) => r.tablename)
const allCpTables = ['cp_fornecedores', 'cp_orcamento_itens', 'cp_orcamentos']
const quotes = (client = santarita) => client.request('GET', '/api/price-basket/quotes')
const isStatus = (status: number) => (res: { statusCode: number }) => res.statusCode === status

t.test('the module catalog lists crm and price-basket', async (t) => {
  const res = await h.asAdmin({ method: 'GET', url: '/api/admin/modules' })
  t.equal(res.statusCode, 200)
  t.match(res.json().items, [
    { name: 'crm', version: '1.0.0', dependencies: [], tables: ['customers', 'products', 'leads'] },
    { name: 'price-basket', version: '1.0.0', dependencies: [], tables: ['cp_fornecedores', 'cp_orcamentos', 'cp_orcamento_itens'] },
  ])
})

t.test('install price-basket on santarita: cp_* tables, indexes, listed, routes answer', async (t) => {
  t.same(await cpTables(), [], 'no cp_* tables before')
  const before = await quotes()
  t.equal(before.statusCode, 404)
  t.match(before.json(), { error: 'ModuleNotInstalled', message: /tenantctl modules install santarita price-basket/ })

  const res = await install('santarita', 'price-basket')
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { operationId: String, operation: { kind: 'module_install', status: 'succeeded' }, modules: ['price-basket'] })
  t.same(await cpTables(), allCpTables, 'the cp_* tables exist in tenant_santarita')
  const indexes = (await h.cluster.query<{ indexname: string }>("select indexname from pg_indexes where tablename like 'cp_%'", [], 'tenant_santarita')).rows.map((r) => r.indexname)
  for (const index of ['idx_cp_orcamentos_status', 'idx_cp_orcamentos_created_at', 'idx_cp_orcamentos_numero', 'idx_cp_fornecedores_cnpj', 'idx_cp_fornecedores_ativo', 'idx_cp_orcamento_itens_orcamento_id', 'idx_cp_orcamento_itens_descricao']) {
    t.ok(indexes.includes(index), `runbook 003 index ${index}`)
  }
  const owner = await h.cluster.query<{ tableowner: string }>("select distinct tableowner from pg_tables where tablename like 'cp_%'", [], 'tenant_santarita')
  t.same(owner.rows, [{ tableowner: 'tenant_santarita_owner' }], "the tables belong to the tenant's own role")

  const listed = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/santarita/modules' })
  t.equal(listed.statusCode, 200)
  t.match(listed.json().items, [{ name: 'price-basket', version: '1.0.0', installedAt: String }])

  const after = await eventually(() => quotes(), isStatus(200))
  t.equal(after.statusCode, 200, after.body)
  t.match(after.json(), { items: [], total: 0 })
  const elsewhere = await gurupi.request('GET', '/api/price-basket/quotes')
  t.equal(elsewhere.statusCode, 404, 'gurupi has not installed it')
  t.match(elsewhere.json(), { error: 'ModuleNotInstalled', message: /"price-basket" is not installed for tenant "gurupi"/ })
})

t.test('reinstall repairs a dropped table and keeps the data (runbook 003: "Tabelas cp_* não existem")', async (t) => {
  const supplier = await santarita.request('POST', '/api/price-basket/suppliers', { name: 'Fornecedor Antigo', cnpj: '11.444.777/0001-61' })
  t.equal(supplier.statusCode, 201, supplier.body)
  await h.cluster.query('drop table cp_orcamento_itens', [], 'tenant_santarita')
  t.same(await cpTables(), ['cp_fornecedores', 'cp_orcamentos'], 'the items table is gone')

  const res = await install('santarita', 'price-basket')
  t.equal(res.statusCode, 200, res.body)
  t.same(await cpTables(), allCpTables, 'the items table is back')
  const kept = await santarita.request('GET', `/api/price-basket/suppliers/${supplier.json().id}`)
  t.equal(kept.statusCode, 200, 'the supplier row survived the repair')
  t.match(kept.json(), { name: 'Fornecedor Antigo', cnpj: '11444777000161' })

  const quote = (await santarita.request('POST', '/api/price-basket/quotes', { number: 'SR-1' })).json()
  const item = await santarita.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'Arroz', quantity: 2, unitPrice: '5.00' })
  t.equal(item.statusCode, 201, 'the repaired table works, foreign key included')
  const migrations = await h.cluster.query("select name from tenant_migrations where scope = 'price-basket'", [], 'tenant_santarita')
  t.same(migrations.rows, [{ name: '0001_price_basket.sql' }], 'one migration record, refreshed, not duplicated')
})

t.test('uninstall keeps the data; reinstall shows it again', async (t) => {
  const res = await uninstall('santarita', 'price-basket')
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { operation: { kind: 'module_uninstall', status: 'succeeded' } })
  const gone = await eventually(() => quotes(), isStatus(404))
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().error, 'ModuleNotInstalled')
  t.same((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/santarita/modules' })).json().items, [], 'no longer listed')
  t.same(await cpTables(), allCpTables, 'the tables stay')
  const rows = await h.cluster.query<{ numero: string }>('select numero from cp_orcamentos', [], 'tenant_santarita')
  t.same(rows.rows, [{ numero: 'SR-1' }], 'and so does the data')

  t.equal((await install('santarita', 'price-basket')).statusCode, 200)
  const back = await eventually(() => quotes(), isStatus(200))
  t.equal(back.statusCode, 200)
  t.match(back.json().items, [{ number: 'SR-1', total: '10.00', itemCount: 1 }], 'the data is visible again')
})

t.test('a tenant user needs the module permission', async (t) => {
  const users: Array<[string, string[]]> = [['plain@santarita.test', []], ['compras@santarita.test', ['price-basket']]]
  for (const [email, permissions] of users) {
    const created = await santarita.request('POST', '/api/users', { email, password: 'member-password', role: 'member', permissions })
    t.equal(created.statusCode, 201, created.body)
  }
  const plain = await tenantClient(h, 'santarita', 'plain@santarita.test', 'member-password')
  const denied = await quotes(plain)
  t.equal(denied.statusCode, 403)
  t.match(denied.json(), { error: 'Forbidden', message: /"price-basket" permission/ })
  const buyer = await tenantClient(h, 'santarita', 'compras@santarita.test', 'member-password')
  const allowed = await quotes(buyer)
  t.equal(allowed.statusCode, 200, allowed.body)
  t.equal(allowed.json().total, 1)
})

t.test('uninstall with purge drops the tables and the migration records', async (t) => {
  const res = await uninstall('santarita', 'price-basket', true)
  t.equal(res.statusCode, 200, res.body)
  t.same(await cpTables(), [], 'the cp_* tables are gone')
  const migrations = await h.cluster.query("select name from tenant_migrations where scope = 'price-basket'", [], 'tenant_santarita')
  t.equal(migrations.rowCount, 0, 'no migration rows left for the scope')
  const base = await h.cluster.query("select name from tenant_migrations where scope = 'base'", [], 'tenant_santarita')
  t.ok(base.rowCount, 'the base migrations are untouched')
  t.equal((await eventually(() => quotes(), isStatus(404))).statusCode, 404)

  t.equal((await install('santarita', 'price-basket')).statusCode, 200, 'a purged module installs fresh')
  t.same(await cpTables(), allCpTables)
  const fresh = await eventually(() => quotes(), isStatus(200))
  t.match(fresh.json(), { items: [], total: 0 }, 'empty: the purge was real')
})

t.test('provisioning with modules: ["crm"] installs it right away', async (t) => {
  const res = await h.asAdmin({
    method: 'POST',
    url: '/api/admin/tenants/provision?wait=true',
    payload: { name: 'Catas Altas', slug: 'catasaltas', adminEmail: 'admin@catasaltas.test', adminPassword: 'catasaltas-password', modules: ['crm'] },
  })
  t.equal(res.statusCode, 201, res.body)
  const listed = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/catasaltas/modules' })
  t.match(listed.json().items, [{ name: 'crm', version: '1.0.0' }])
  const tables = await h.cluster.query<{ tablename: string }>("select tablename from pg_tables where tablename in ('customers', 'products', 'leads') order by 1", [], 'tenant_catasaltas')
  t.same(tables.rows.map((r) => r.tablename), ['customers', 'leads', 'products'])
  const client = await tenantClient(h, 'catasaltas', 'admin@catasaltas.test', 'catasaltas-password')
  const customers = await eventually(() => client.request('GET', '/api/crm/customers'), isStatus(200))
  t.equal(customers.statusCode, 200, customers.body)
  t.equal((await client.request('GET', '/api/price-basket/quotes')).statusCode, 404, 'and only what was asked for')

  await client.request('POST', '/api/crm/customers', { name: 'Kept', email: 'kept@catasaltas.test' })
  t.equal((await install('catasaltas', 'crm')).statusCode, 200, 'the crm migration re-runs cleanly (idempotent)')
  const kept = await client.request('GET', '/api/crm/customers')
  t.match(kept.json(), { total: 1, items: [{ name: 'Kept' }] }, 'and keeps the data')
})

t.test('the module routes are in the OpenAPI document, tagged and summarized', async (t) => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>> }
  const expected: Array<[string, string, string]> = [
    ['get', '/api/crm/customers', 'crm'],
    ['post', '/api/crm/customers', 'crm'],
    ['patch', '/api/crm/customers/{id}', 'crm'],
    ['delete', '/api/crm/customers/{id}', 'crm'],
    ['get', '/api/crm/products', 'crm'],
    ['get', '/api/crm/leads', 'crm'],
    ['post', '/api/crm/leads/{id}/status', 'crm'],
    ['get', '/api/price-basket/suppliers', 'price-basket'],
    ['get', '/api/price-basket/quotes', 'price-basket'],
    ['get', '/api/price-basket/quotes/{id}', 'price-basket'],
    ['get', '/api/price-basket/quotes/{id}/items', 'price-basket'],
    ['post', '/api/price-basket/quotes/{id}/items', 'price-basket'],
    ['patch', '/api/price-basket/quotes/{id}/items/{itemId}', 'price-basket'],
    ['delete', '/api/price-basket/quotes/{id}/items/{itemId}', 'price-basket'],
  ]
  for (const [method, path, tag] of expected) {
    const op = doc.paths[path]?.[method]
    t.ok(op, `${method.toUpperCase()} ${path} is documented`)
    t.same(op?.tags, [tag], `${method.toUpperCase()} ${path} is tagged ${tag}`)
    t.ok(op?.summary && op.summary.length > 5, `${method.toUpperCase()} ${path} has a summary`)
    t.ok(op?.responses['404'] && op.responses['403'], `${method.toUpperCase()} ${path} documents 403 and 404`)
  }
})
