import t from 'tap'
import { startHarness } from '../helpers/harness.js'

// The OpenAPI document at /docs/json describes the API operators and the runbooks use,
// and /docs serves a working Swagger UI.

const h = await startHarness(t)
const { app } = h

interface Operation {
  summary?: string
  tags?: string[]
  security?: unknown[]
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> }
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: Schema }>
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>
}
interface Schema {
  $ref?: string
  type?: string
  required?: string[]
  properties?: Record<string, Schema>
  additionalProperties?: boolean
  [key: string]: unknown
}
interface OpenApiDoc {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> }
  security?: unknown[]
}

const res = await app.inject({ method: 'GET', url: '/docs/json' })
const doc = res.json() as OpenApiDoc

/** Follows a local $ref to its schema. */
function deref(schema: Schema): Schema {
  if (!schema.$ref) return schema
  const name = schema.$ref.replace('#/components/schemas/', '')
  return doc.components.schemas[name] ?? {}
}

t.test('/docs/json is an OpenAPI 3 document, served without a token', async (t) => {
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /application\/json/)
  t.match(doc.openapi, /^3\.\d+\.\d+$/, `openapi version ${doc.openapi}`)
  t.equal(doc.info.title, 'tenantd')
  t.ok(doc.info.version, 'has a version')
  t.match(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } }, 'bearer auth is declared')
  t.same(doc.security, [{ bearer: [] }], 'routes need the bearer token by default')
})

t.test('the runbook paths are listed with the right methods', async (t) => {
  const expected: Array<[string, string]> = [
    ['post', '/api/admin/tenants/provision'],
    ['get', '/api/admin/tenants'],
    ['get', '/api/admin/tenants/{id}'],
    ['post', '/api/admin/tenants/{id}/suspend'],
    ['post', '/api/admin/tenants/{id}/reactivate'],
    ['post', '/api/admin/tenants/{id}/cancel'],
    ['post', '/api/admin/tenants/{id}/delete'],
    ['post', '/api/admin/tenants/{id}/test-connection'],
    ['get', '/api/admin/operations'],
    ['get', '/api/admin/operations/{id}'],
    ['post', '/api/admin/operations/{id}/retry'],
    ['get', '/api/admin/hosts'],
    ['post', '/api/admin/hosts'],
    ['post', '/api/auth/login'],
    ['post', '/api/auth/refresh'],
    ['post', '/api/auth/logout'],
    ['get', '/api/tenants/current'],
    ['get', '/api/health'],
    ['get', '/api/ready'],
    ['get', '/api/audit-logs'],
    ['get', '/api/users'],
    ['post', '/api/users'],
  ]
  for (const [method, path] of expected) {
    const op = doc.paths[path]?.[method]
    t.ok(op, `${method.toUpperCase()} ${path} is documented`)
    if (!op) continue
    t.ok(op.summary && op.summary.length > 5, `${method.toUpperCase()} ${path} has a summary`)
    t.ok(op.tags?.length, `${method.toUpperCase()} ${path} is tagged`)
  }
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/docs')), 'the docs routes themselves are not listed')
  t.notOk(Object.keys(doc.paths).some((p) => p.includes(':')), 'path parameters use the {id} form')
  const suspend = doc.paths['/api/admin/tenants/{id}/suspend']!.post!
  t.match(suspend.parameters, [{ in: 'path', name: 'id', required: true }], 'the tenant id is a path parameter')
  t.match(suspend.summary, /runbook 002/, 'the summary points to the runbook')
  t.same(doc.paths['/api/auth/login']!.post!.security, [], 'login needs no token')
  t.same(doc.paths['/api/health']!.get!.security ?? [], [], 'health needs no token')
})

t.test('the provision operation documents its body (runbook 002) and answers', async (t) => {
  const op = doc.paths['/api/admin/tenants/provision']!.post!
  t.equal(op.requestBody?.required, true, 'the body is required')
  const body = deref(op.requestBody!.content['application/json']!.schema)
  t.equal(body.type, 'object')
  t.same(body.required, ['name'], 'only name is required')
  t.equal(body.additionalProperties, false, 'unknown fields are refused')
  t.same(
    Object.keys(body.properties ?? {}).sort(),
    ['adminEmail', 'adminName', 'adminPassword', 'contactEmail', 'hostId', 'modules', 'name', 'plan', 'retentionDays', 'slug', 'subdomain'],
    'the runbook fields plus slug, subdomain, hostId, retentionDays, modules'
  )
  t.match(body.properties!.adminPassword, { type: 'string', minLength: 8 })
  t.match(body.properties!.adminEmail, { type: 'string', format: 'email' })
  t.match(body.properties!.slug!.description, /3-40 lowercase/, 'the slug rule is documented')
  t.match(body.properties!.plan!.description, /free, pro or enterprise/)
  t.match(op.parameters, [{ in: 'query', name: 'wait', schema: { type: 'boolean' } }], '?wait is documented')

  for (const status of ['201', '202', '400', '401', '403', '409']) t.ok(op.responses[status], `response ${status} is documented`)
  const accepted = deref(op.responses['202']!.content!['application/json']!.schema)
  t.same(accepted.required?.sort(), ['operationId', 'tenant'], '202 answers {tenant, operationId}')
  const tenant = deref(accepted.properties!.tenant!)
  for (const field of ['id', 'slug', 'subdomain', 'name', 'plan', 'status', 'database']) t.ok(tenant.properties?.[field], `Tenant has ${field}`)
  t.notOk(JSON.stringify(tenant).match(/password|sealed/i), 'the Tenant schema carries no credentials')
  const conflict = deref(op.responses['409']!.content!['application/json']!.schema)
  t.same(conflict.required?.sort(), ['error', 'message'], 'errors are {error, message}')
})

t.test('every $ref in the document resolves', async (t) => {
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!)
  t.ok(refs.length > 0, 'the document uses shared schemas')
  const missing = [...new Set(refs)].filter((ref) => {
    if (!ref.startsWith('#/components/schemas/')) return true
    return !(ref.slice('#/components/schemas/'.length) in doc.components.schemas)
  })
  t.same(missing, [], 'no dangling $ref')
})

t.test('tenant-scoped routes document the errors they answer', async (t) => {
  // /api/tenants/current answers 404 TenantNotFound, 403 TenantSuspended and
  // CrossTenantAccessBlocked (see resolver.test.ts); a client generated from the document
  // must know about them.
  for (const [method, path] of [['get', '/api/tenants/current'], ['get', '/api/users']] as const) {
    const op = doc.paths[path]![method]!
    t.ok(op.responses['404'], `${method.toUpperCase()} ${path} documents 404`)
    t.ok(op.responses['403'], `${method.toUpperCase()} ${path} documents 403`)
  }
  t.ok(doc.paths['/api/users']!.get!.responses['503'], 'GET /api/users documents 503 TenantDatabaseUnavailable')
})

t.test('/docs serves the Swagger UI, and its assets load', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(String(page.headers['content-type']), /text\/html/)
  t.match(page.body, /swagger-ui/i)
  const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => new URL(m[1]!, 'http://127.0.0.1/docs').pathname)
  t.ok(assets.length >= 3, `the page references its scripts and styles (${assets.join(', ')})`)
  for (const asset of assets) {
    const r = await app.inject({ method: 'GET', url: asset })
    t.equal(r.statusCode, 200, `${asset} loads`)
  }
  const slash = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(slash.statusCode, 200, '/docs/ works too')
})
