import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { eventually, installModule, tenantClient } from './module-test-helpers.js'

// The CRM module end to end over real tenant databases: CRUD of customers, products and
// leads, validation (400), unknown ids (404), duplicates (409), search and pagination,
// and runbook 002's isolation check between two tenants.

const h = await startHarness(t)
await h.provision({ name: 'Acme', slug: 'acme', adminEmail: 'ann@acme.test', adminPassword: 'acme-admin-password' })
await h.provision({ name: 'Globex', slug: 'globex', adminEmail: 'gus@globex.test', adminPassword: 'globex-admin-password' })
await installModule(h, 'acme', 'crm')
await installModule(h, 'globex', 'crm')
const acme = await tenantClient(h, 'acme', 'ann@acme.test', 'acme-admin-password')
const globex = await tenantClient(h, 'globex', 'gus@globex.test', 'globex-admin-password')
await eventually(() => acme.request('GET', '/api/crm/customers'), (r) => r.statusCode === 200)
await eventually(() => globex.request('GET', '/api/crm/customers'), (r) => r.statusCode === 200)

const missing = '00000000-0000-4000-8000-000000000000'

t.test('customers: create, show, change, list, delete', async (t) => {
  const created = await acme.request('POST', '/api/crm/customers', { name: '  Maria Silva ', email: 'maria@example.com', phone: '+55 31 99999-0000', company: 'Prefeitura', notes: '' })
  t.equal(created.statusCode, 201, created.body)
  const maria = created.json()
  t.match(maria, { id: /^[0-9a-f-]{36}$/, name: 'Maria Silva', email: 'maria@example.com', company: 'Prefeitura', notes: null })
  t.ok(Date.parse(maria.createdAt), 'createdAt is a timestamp')

  const shown = await acme.request('GET', `/api/crm/customers/${maria.id}`)
  t.equal(shown.statusCode, 200)
  t.same(shown.json(), maria)

  const changed = await acme.request('PATCH', `/api/crm/customers/${maria.id}`, { phone: null, company: 'Câmara' })
  t.equal(changed.statusCode, 200, changed.body)
  t.match(changed.json(), { name: 'Maria Silva', phone: null, company: 'Câmara', email: 'maria@example.com' })
  t.ok(Date.parse(changed.json().updatedAt) >= Date.parse(maria.updatedAt), 'updatedAt moves forward')

  const removed = await acme.request('DELETE', `/api/crm/customers/${maria.id}`)
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  const gone = await acme.request('GET', `/api/crm/customers/${maria.id}`)
  t.equal(gone.statusCode, 404)
  t.match(gone.json(), { error: 'NotFound', message: /No customer .* GET \/api\/crm\/customers/ })
})

t.test('customers: bad input is 400, unknown ids 404, a duplicate email 409', async (t) => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['POST', '/api/crm/customers', {}, /name/],
    ['POST', '/api/crm/customers', { name: '   ' }, /name/],
    ['POST', '/api/crm/customers', { name: 'X', email: 'not-an-email' }, /email/],
    ['POST', '/api/crm/customers', { name: 'X', favouriteColour: 'blue' }, /favouriteColour/],
    ['PATCH', `/api/crm/customers/${missing}`, {}, /fewer than 1/],
    ['GET', '/api/crm/customers/not-a-uuid', undefined, /uuid/],
    ['GET', '/api/crm/customers?limit=0', undefined, /limit/],
  ]
  for (const [method, url, payload, message] of cases) {
    const res = await acme.request(method as 'POST', url, payload)
    t.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(payload)} → 400 (${res.body})`)
    t.equal(res.json().error, 'ValidationError')
    t.match(res.json().message, message)
  }
  for (const [method, payload] of [['GET'], ['PATCH', { name: 'Y' }], ['DELETE']] as const) {
    const res = await acme.request(method, `/api/crm/customers/${missing}`, payload)
    t.equal(res.statusCode, 404, `${method} of an unknown customer → 404`)
    t.equal(res.json().error, 'NotFound')
  }

  const first = await acme.request('POST', '/api/crm/customers', { name: 'João', email: 'joao@example.com' })
  t.equal(first.statusCode, 201)
  const dup = await acme.request('POST', '/api/crm/customers', { name: 'Other João', email: 'JOAO@example.com' })
  t.equal(dup.statusCode, 409, 'emails are unique, case-insensitively')
  t.match(dup.json(), { error: 'Conflict', message: /already exists/ })
  const other = await acme.request('POST', '/api/crm/customers', { name: 'Ana', email: 'ana@example.com' })
  const dupByPatch = await acme.request('PATCH', `/api/crm/customers/${other.json().id}`, { email: 'joao@example.com' })
  t.equal(dupByPatch.statusCode, 409, 'a change to a taken email is refused too')
  const noEmails = await Promise.all([acme.request('POST', '/api/crm/customers', { name: 'No Mail 1' }), acme.request('POST', '/api/crm/customers', { name: 'No Mail 2', email: null })])
  t.same(noEmails.map((r) => r.statusCode), [201, 201], 'any number of customers without email')
})

t.test('customers: search and pagination', async (t) => {
  for (let i = 1; i <= 7; i++) {
    const res = await acme.request('POST', '/api/crm/customers', { name: `Paged ${i}`, email: `paged${i}@pages.test`, company: i % 2 ? 'Odd 100% Inc' : 'Even Ltd' })
    t.equal(res.statusCode, 201)
  }
  const page1 = (await acme.request('GET', '/api/crm/customers?search=paged&limit=3')).json()
  t.match(page1, { total: 7, limit: 3, offset: 0 })
  t.same(page1.items.map((c: { name: string }) => c.name), ['Paged 7', 'Paged 6', 'Paged 5'], 'newest first')
  const page3 = (await acme.request('GET', '/api/crm/customers?search=paged&limit=3&offset=6')).json()
  t.same(page3.items.map((c: { name: string }) => c.name), ['Paged 1'])
  t.equal(page3.total, 7)
  const past = (await acme.request('GET', '/api/crm/customers?search=paged&limit=3&offset=30')).json()
  t.match(past, { items: [], total: 7 }, 'past the end: no items, the total still right')

  const byCompany = (await acme.request('GET', '/api/crm/customers?search=ODD%20100%25')).json()
  t.equal(byCompany.total, 4, 'search matches company case-insensitively; % is a literal')
  const byEmail = (await acme.request('GET', '/api/crm/customers?search=paged3@')).json()
  t.same(byEmail.items.map((c: { name: string }) => c.name), ['Paged 3'], 'search matches email')
  const wildcard = (await acme.request('GET', '/api/crm/customers?search=_')).json()
  t.equal(wildcard.total, 0, '_ is a literal, not a wildcard')
})

t.test('products: decimal prices, currency, unique names, 409 while leads refer to one', async (t) => {
  const course = await acme.request('POST', '/api/crm/products', { name: 'Course: Web Development', type: 'course', price: 999, currency: 'usd' })
  t.equal(course.statusCode, 201, course.body)
  t.match(course.json(), { price: '999.00', currency: 'USD', active: true }, 'price is an exact decimal string; currency upper-cased')
  const consulting = await acme.request('POST', '/api/crm/products', { name: 'Consulting Service', type: 'service', price: '5000.5', currency: 'USD' })
  t.match(consulting.json(), { price: '5000.50' })

  for (const price of [-1, '-1', '1.234', 'abc', '12345678901', '1e3']) {
    const res = await acme.request('POST', '/api/crm/products', { name: `Bad ${price}`, type: 'x', price, currency: 'USD' })
    t.equal(res.statusCode, 400, `price ${JSON.stringify(price)} → 400`)
    t.match(res.json().message, /price must be a decimal number >= 0/)
  }
  const badCurrency = await acme.request('POST', '/api/crm/products', { name: 'Bad currency', type: 'x', price: 1, currency: 'EURO' })
  t.equal(badCurrency.statusCode, 400)
  t.match(badCurrency.json().message, /currency/)

  const dup = await acme.request('POST', '/api/crm/products', { name: 'consulting service', type: 'service', price: 1, currency: 'USD' })
  t.equal(dup.statusCode, 409)
  t.match(dup.json().message, /already exists/)

  const changed = await acme.request('PATCH', `/api/crm/products/${course.json().id}`, { price: '1099.90', active: false })
  t.match(changed.json(), { price: '1099.90', active: false })
  const active = (await acme.request('GET', '/api/crm/products?active=true')).json()
  t.same(active.items.map((p: { name: string }) => p.name), ['Consulting Service'])
  const searched = (await acme.request('GET', '/api/crm/products?search=web')).json()
  t.same(searched.items.map((p: { name: string }) => p.name), ['Course: Web Development'])

  const lead = await acme.request('POST', '/api/crm/leads', { firstName: 'John', productId: consulting.json().id })
  t.equal(lead.statusCode, 201)
  const blocked = await acme.request('DELETE', `/api/crm/products/${consulting.json().id}`)
  t.equal(blocked.statusCode, 409, 'a product with leads is not deleted')
  t.match(blocked.json(), { error: 'Conflict', message: /still has leads.*active/ })
  t.equal((await acme.request('DELETE', `/api/crm/leads/${lead.json().id}`)).statusCode, 204)
  t.equal((await acme.request('DELETE', `/api/crm/products/${consulting.json().id}`)).statusCode, 204, 'without leads it goes')
  t.equal((await acme.request('DELETE', `/api/crm/products/${consulting.json().id}`)).statusCode, 404)
})

t.test('leads: create, filter by status, move through statuses, links', async (t) => {
  const customer = (await acme.request('POST', '/api/crm/customers', { name: 'Lead Owner' })).json()
  const product = (await acme.request('POST', '/api/crm/products', { name: 'Lead Product', type: 'service', price: '10', currency: 'BRL' })).json()
  const jane = await acme.request('POST', '/api/crm/leads', { firstName: 'Jane', lastName: 'Smith', email: 'jane@example.com', phone: '+0987654321', source: 'referral', customerId: customer.id, productId: product.id })
  t.equal(jane.statusCode, 201, jane.body)
  t.match(jane.json(), { status: 'new', firstName: 'Jane', lastName: 'Smith', customerId: customer.id, productId: product.id })
  const john = (await acme.request('POST', '/api/crm/leads', { firstName: 'John', lastName: 'Doe', status: 'contacted', source: 'website' })).json()
  t.equal(john.status, 'contacted')

  const moved = await acme.request('POST', `/api/crm/leads/${jane.json().id}/status`, { status: 'qualified' })
  t.equal(moved.statusCode, 200, moved.body)
  t.equal(moved.json().status, 'qualified')
  const badStatus = await acme.request('POST', `/api/crm/leads/${jane.json().id}/status`, { status: 'maybe' })
  t.equal(badStatus.statusCode, 400)
  t.match(badStatus.json().message, /new, contacted, qualified, won, lost/)
  const unknown = await acme.request('POST', `/api/crm/leads/${missing}/status`, { status: 'won' })
  t.equal(unknown.statusCode, 404)

  const qualified = (await acme.request('GET', '/api/crm/leads?status=qualified')).json()
  t.same(qualified.items.map((l: { firstName: string }) => l.firstName), ['Jane'])
  const contacted = (await acme.request('GET', '/api/crm/leads?status=contacted')).json()
  t.same(contacted.items.map((l: { firstName: string }) => l.firstName), ['John'])
  const byName = (await acme.request('GET', '/api/crm/leads?search=john%20doe')).json()
  t.same(byName.items.map((l: { id: string }) => l.id), [john.id], 'search matches the full name')
  const byCustomer = (await acme.request('GET', `/api/crm/leads?customerId=${customer.id}`)).json()
  t.equal(byCustomer.total, 1)

  const noCustomer = await acme.request('POST', '/api/crm/leads', { firstName: 'Ghost', customerId: missing })
  t.equal(noCustomer.statusCode, 400, 'an unknown customerId is a 400, not a 500')
  t.match(noCustomer.json(), { error: 'ValidationError', message: /customerId .* is not a customer of this tenant/ })
  const noProduct = await acme.request('PATCH', `/api/crm/leads/${john.id}`, { productId: missing })
  t.equal(noProduct.statusCode, 400)
  t.match(noProduct.json().message, /productId .* is not a product/)

  t.equal((await acme.request('DELETE', `/api/crm/customers/${customer.id}`)).statusCode, 204)
  const unlinked = (await acme.request('GET', `/api/crm/leads/${jane.json().id}`)).json()
  t.match(unlinked, { customerId: null, firstName: 'Jane' }, 'deleting the customer keeps the lead, unlinked')
  const cleared = await acme.request('PATCH', `/api/crm/leads/${jane.json().id}`, { productId: null, lastName: null })
  t.match(cleared.json(), { productId: null, lastName: null })
})

t.test('isolation (runbook 002): each tenant sees only its own customers', async (t) => {
  await acme.request('POST', '/api/crm/customers', { name: 'Only In Acme', email: 'only@acme.test' })
  await globex.request('POST', '/api/crm/customers', { name: 'Only In Globex', email: 'only@globex.test' })
  const fromAcme = await acme.request('GET', '/api/crm/customers?limit=500')
  const fromGlobex = await globex.request('GET', '/api/crm/customers?limit=500')
  t.equal(fromAcme.statusCode, 200)
  t.equal(fromGlobex.statusCode, 200)
  const acmeNames = fromAcme.json().items.map((c: { name: string }) => c.name)
  const globexNames = fromGlobex.json().items.map((c: { name: string }) => c.name)
  t.ok(acmeNames.includes('Only In Acme'))
  t.notOk(acmeNames.includes('Only In Globex'), "globex's customer never appears through acme")
  t.same(globexNames, ['Only In Globex'], 'globex sees its one customer and nothing of acme')

  const acmeId = fromAcme.json().items[0].id
  const byIdElsewhere = await globex.request('GET', `/api/crm/customers/${acmeId}`)
  t.equal(byIdElsewhere.statusCode, 404, "an acme id means nothing in globex's database")

  const crossed = await h.app.inject({ method: 'GET', url: '/api/crm/customers', headers: { host: globex.host, authorization: `Bearer ${acme.token}` } })
  t.equal(crossed.statusCode, 403, "acme's token on globex's host")
  t.equal(crossed.json().error, 'CrossTenantAccessBlocked')
})
