import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { eventually, installModule, tenantClient } from './module-test-helpers.js'

// The price basket (Cesta de Preços, runbook 003) end to end over real tenant databases:
// suppliers, quotes and their items, totals computed by PostgreSQL, validation (400),
// unknown ids (404), duplicates and frozen quotes (409), search and pagination, isolation.

const h = await startHarness(t)
await h.provision({ name: 'Prefeitura de Pirapora', slug: 'pirapora', adminEmail: 'admin@pirapora.test', adminPassword: 'pirapora-password' })
await h.provision({ name: 'Prefeitura de Nova Roma', slug: 'novaroma', adminEmail: 'admin@novaroma.test', adminPassword: 'novaroma-password' })
await installModule(h, 'pirapora', 'price-basket')
await installModule(h, 'novaroma', 'price-basket')
const pirapora = await tenantClient(h, 'pirapora', 'admin@pirapora.test', 'pirapora-password')
const novaroma = await tenantClient(h, 'novaroma', 'admin@novaroma.test', 'novaroma-password')
await eventually(() => pirapora.request('GET', '/api/price-basket/quotes'), (r) => r.statusCode === 200)
await eventually(() => novaroma.request('GET', '/api/price-basket/quotes'), (r) => r.statusCode === 200)

const missing = '00000000-0000-4000-8000-000000000000'

t.test('suppliers: CNPJ normalized and checked, unique, CRUD', async (t) => {
  const created = await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Papelaria Central', cnpj: '11.222.333/0001-81', email: 'vendas@papelaria.test', phone: '(38) 3741-0000' })
  t.equal(created.statusCode, 201, created.body)
  const papelaria = created.json()
  t.match(papelaria, { name: 'Papelaria Central', cnpj: '11222333000181', email: 'vendas@papelaria.test', phone: '(38) 3741-0000', active: true })

  const dup = await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Same company', cnpj: '11222333000181' })
  t.equal(dup.statusCode, 409, 'the same CNPJ without punctuation is the same supplier')
  t.match(dup.json(), { error: 'Conflict', message: /CNPJ 11222333000181 already exists/ })

  const wrongDigits = await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Typo', cnpj: '11.222.333/0001-82' })
  t.equal(wrongDigits.statusCode, 400)
  t.match(wrongDigits.json().message, /check digits/)
  const alphanumeric = await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Nova Era', cnpj: '12.ABC.345/01DE-35' })
  t.equal(alphanumeric.statusCode, 201, 'the 2026 alphanumeric CNPJ is accepted')
  t.equal(alphanumeric.json().cnpj, '12ABC34501DE35')
  const noCnpj = await Promise.all([1, 2].map((i) => pirapora.request('POST', '/api/price-basket/suppliers', { name: `Sem CNPJ ${i}` })))
  t.same(noCnpj.map((r) => r.statusCode), [201, 201], 'CNPJ is unique only when given')

  const changed = await pirapora.request('PATCH', `/api/price-basket/suppliers/${papelaria.id}`, { active: false, phone: null })
  t.match(changed.json(), { active: false, phone: null, cnpj: '11222333000181' })
  const inactive = (await pirapora.request('GET', '/api/price-basket/suppliers?active=false')).json()
  t.same(inactive.items.map((s: { name: string }) => s.name), ['Papelaria Central'])
  const byCnpj = (await pirapora.request('GET', '/api/price-basket/suppliers?search=11.222.333')).json()
  t.same(byCnpj.items.map((s: { id: string }) => s.id), [papelaria.id], 'search finds a supplier by formatted CNPJ')
  const all = (await pirapora.request('GET', '/api/price-basket/suppliers?limit=2')).json()
  t.match(all, { total: 4, limit: 2, offset: 0 })
  t.equal(all.items.length, 2)

  for (const [method, payload] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
    const res = await pirapora.request(method, `/api/price-basket/suppliers/${missing}`, payload)
    t.equal(res.statusCode, 404, `${method} of an unknown supplier → 404`)
    t.match(res.json().message, /No supplier/)
  }
  const bad = await pirapora.request('POST', '/api/price-basket/suppliers', { nome: 'Portuguese field name' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /name|nome/)
})

t.test('quotes: the total is computed in SQL, with item subtotals', async (t) => {
  const supplier = (await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Distribuidora Total' })).json()
  const created = await pirapora.request('POST', '/api/price-basket/quotes', { number: '2025/0001', description: 'Material de escritório', supplierId: supplier.id })
  t.equal(created.statusCode, 201, created.body)
  const quote = created.json()
  t.match(quote, { number: '2025/0001', status: 'rascunho', supplierId: supplier.id, supplierName: 'Distribuidora Total', total: '0.00', itemCount: 0, items: [] })

  const pens = await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'Caneta azul', quantity: 3, unitPrice: 10.5 })
  t.equal(pens.statusCode, 201, pens.body)
  t.match(pens.json(), { quoteId: quote.id, description: 'Caneta azul', quantity: '3', unit: 'UN', unitPrice: '10.50', subtotal: '31.50' })
  const paper = await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'Resma A4', quantity: '2', unit: 'cx', unitPrice: '4.25' })
  t.match(paper.json(), { quantity: '2', unit: 'CX', unitPrice: '4.25', subtotal: '8.50' })

  const shown = (await pirapora.request('GET', `/api/price-basket/quotes/${quote.id}`)).json()
  t.equal(shown.total, '40.00', '3 × 10.50 + 2 × 4.25 = 40.00, an exact decimal string')
  t.equal(shown.itemCount, 2)
  t.same(shown.items.map((i: { description: string; subtotal: string }) => [i.description, i.subtotal]), [['Caneta azul', '31.50'], ['Resma A4', '8.50']])

  const fractional = await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'Cola', quantity: '0.333', unitPrice: '0.10' })
  t.match(fractional.json(), { quantity: '0.333', subtotal: '0.03' }, 'subtotals round to cents')
  const items = (await pirapora.request('GET', `/api/price-basket/quotes/${quote.id}/items`)).json().items
  t.equal(items.length, 3)
  t.equal((await pirapora.request('GET', `/api/price-basket/quotes/${quote.id}`)).json().total, '40.03')

  const edited = await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}/items/${fractional.json().id}`, { quantity: 10, unitPrice: '1.99' })
  t.match(edited.json(), { quantity: '10', unitPrice: '1.99', subtotal: '19.90' })
  t.equal((await pirapora.request('GET', `/api/price-basket/quotes/${quote.id}`)).json().total, '59.90')
  t.equal((await pirapora.request('DELETE', `/api/price-basket/quotes/${quote.id}/items/${fractional.json().id}`)).statusCode, 204)
  t.equal((await pirapora.request('GET', `/api/price-basket/quotes/${quote.id}`)).json().total, '40.00')

  // The list carries every quote's total, computed in the same query.
  await pirapora.request('POST', '/api/price-basket/quotes', { number: '2025/0002' })
  const list = (await pirapora.request('GET', '/api/price-basket/quotes?search=2025/')).json()
  t.same(list.items.map((q: { number: string; total: string; itemCount: number }) => [q.number, q.total, q.itemCount]), [['2025/0002', '0.00', 0], ['2025/0001', '40.00', 2]])
})

t.test('quotes: validation 400, unknown ids 404, duplicates and frozen quotes 409', async (t) => {
  const quote = (await pirapora.request('POST', '/api/price-basket/quotes', { number: 'VAL-1', status: 'aberto' })).json()
  const item = (await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'Item', quantity: 1, unitPrice: 1 })).json()
  const badItems: Array<[unknown, RegExp]> = [
    [{ description: 'x', quantity: 0, unitPrice: 1 }, /quantity must be greater than 0/],
    [{ description: 'x', quantity: -2, unitPrice: 1 }, /quantity must be a decimal number > 0/],
    [{ description: 'x', quantity: '1.2345', unitPrice: 1 }, /quantity/],
    [{ description: 'x', quantity: 1, unitPrice: -0.01 }, /unitPrice must be a decimal number >= 0/],
    [{ description: 'x', quantity: 1, unitPrice: '1.001' }, /unitPrice/],
    [{ description: '', quantity: 1, unitPrice: 1 }, /description/],
    [{ quantity: 1, unitPrice: 1 }, /description/],
    [{ description: 'x', quantity: 1, unitPrice: 1, quantidade: 1 }, /quantidade/],
  ]
  for (const [payload, message] of badItems) {
    const res = await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, payload)
    t.equal(res.statusCode, 400, `${JSON.stringify(payload)} → 400 (${res.body})`)
    t.match(res.json(), { error: 'ValidationError', message })
  }
  const badStatus = await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}`, { status: 'open' })
  t.equal(badStatus.statusCode, 400)
  t.match(badStatus.json().message, /rascunho, aberto, fechado, cancelado/)
  const badSupplier = await pirapora.request('POST', '/api/price-basket/quotes', { number: 'VAL-2', supplierId: missing })
  t.equal(badSupplier.statusCode, 400, 'an unknown supplier is a 400, never a 500')
  t.match(badSupplier.json().message, /supplierId .* is not a supplier of this tenant/)

  t.equal((await pirapora.request('GET', `/api/price-basket/quotes/${missing}`)).statusCode, 404)
  const noQuote = await pirapora.request('POST', `/api/price-basket/quotes/${missing}/items`, { description: 'x', quantity: 1, unitPrice: 1 })
  t.equal(noQuote.statusCode, 404)
  t.match(noQuote.json().message, /No quote/)
  t.equal((await pirapora.request('GET', `/api/price-basket/quotes/${missing}/items`)).statusCode, 404)
  const wrongQuote = (await pirapora.request('POST', '/api/price-basket/quotes', { number: 'VAL-3' })).json()
  const notOnThisQuote = await pirapora.request('PATCH', `/api/price-basket/quotes/${wrongQuote.id}/items/${item.id}`, { quantity: 2 })
  t.equal(notOnThisQuote.statusCode, 404, 'an item is only reached through its own quote')
  t.match(notOnThisQuote.json().message, /No item .* on quote/)

  const dup = await pirapora.request('POST', '/api/price-basket/quotes', { number: 'VAL-1' })
  t.equal(dup.statusCode, 409)
  t.match(dup.json(), { error: 'Conflict', message: /numbered "VAL-1" already exists/ })
  const dupByPatch = await pirapora.request('PATCH', `/api/price-basket/quotes/${wrongQuote.id}`, { number: 'VAL-1' })
  t.equal(dupByPatch.statusCode, 409)

  const closed = await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}`, { status: 'fechado' })
  t.equal(closed.json().status, 'fechado')
  const frozen = await pirapora.request('POST', `/api/price-basket/quotes/${quote.id}/items`, { description: 'late', quantity: 1, unitPrice: 1 })
  t.equal(frozen.statusCode, 409, 'items of a closed quote are frozen')
  t.match(frozen.json().message, /VAL-1 is fechado.*reopen/)
  t.equal((await pirapora.request('DELETE', `/api/price-basket/quotes/${quote.id}/items/${item.id}`)).statusCode, 409)
  await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}`, { status: 'aberto' })
  t.equal((await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}/items/${item.id}`, { quantity: 5 })).statusCode, 200, 'reopened, items change again')

  const supplier = (await pirapora.request('POST', '/api/price-basket/suppliers', { name: 'Has Quotes' })).json()
  await pirapora.request('PATCH', `/api/price-basket/quotes/${quote.id}`, { supplierId: supplier.id })
  const blocked = await pirapora.request('DELETE', `/api/price-basket/suppliers/${supplier.id}`)
  t.equal(blocked.statusCode, 409, 'a supplier with quotes stays')
  t.match(blocked.json().message, /has quotes.*active/)

  t.equal((await pirapora.request('DELETE', `/api/price-basket/quotes/${quote.id}`)).statusCode, 204)
  const orphans = await h.cluster.query<{ n: number }>('select count(*)::int as n from cp_orcamento_itens where orcamento_id = $1', [quote.id], 'tenant_pirapora')
  t.equal(orphans.rows[0]?.n, 0, 'deleting a quote deletes its items')
  t.equal((await pirapora.request('DELETE', `/api/price-basket/suppliers/${supplier.id}`)).statusCode, 204, 'without quotes the supplier goes')
})

t.test('quotes: search, status filter and pagination', async (t) => {
  for (let i = 1; i <= 5; i++) {
    await pirapora.request('POST', '/api/price-basket/quotes', { number: `PAG-${i}`, description: i % 2 ? 'Merenda escolar' : 'Combustível', status: i <= 2 ? 'aberto' : 'rascunho' })
  }
  const page = (await pirapora.request('GET', '/api/price-basket/quotes?search=pag-&limit=2&offset=2')).json()
  t.match(page, { total: 5, limit: 2, offset: 2 })
  t.same(page.items.map((q: { number: string }) => q.number), ['PAG-3', 'PAG-2'], 'newest first')
  const merenda = (await pirapora.request('GET', '/api/price-basket/quotes?search=MERENDA')).json()
  t.same(merenda.items.map((q: { number: string }) => q.number), ['PAG-5', 'PAG-3', 'PAG-1'], 'search matches the description, case-insensitively')
  const open = (await pirapora.request('GET', '/api/price-basket/quotes?search=pag-&status=aberto')).json()
  t.same(open.items.map((q: { number: string }) => q.number), ['PAG-2', 'PAG-1'])
  const past = (await pirapora.request('GET', '/api/price-basket/quotes?search=pag-&offset=100')).json()
  t.match(past, { items: [], total: 5 })
})

t.test("isolation: one municipality's quotes never show through another", async (t) => {
  await novaroma.request('POST', '/api/price-basket/quotes', { number: 'NR-1' })
  const fromNovaRoma = (await novaroma.request('GET', '/api/price-basket/quotes?limit=500')).json()
  t.same(fromNovaRoma.items.map((q: { number: string }) => q.number), ['NR-1'])
  const fromPirapora = (await pirapora.request('GET', '/api/price-basket/quotes?limit=500')).json()
  t.notOk(fromPirapora.items.some((q: { number: string }) => q.number === 'NR-1'))
  t.equal((await novaroma.request('POST', '/api/price-basket/quotes', { number: '2025/0001' })).statusCode, 201, 'numbers are unique per tenant, not across tenants')
  const crossed = await h.app.inject({ method: 'GET', url: '/api/price-basket/quotes', headers: { host: novaroma.host, authorization: `Bearer ${pirapora.token}` } })
  t.equal(crossed.statusCode, 403)
  t.equal(crossed.json().error, 'CrossTenantAccessBlocked')
})
