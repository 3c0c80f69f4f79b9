import t from 'tap'
import { cliEnv, credentialsFixture, operationFixture, runTenantctl, startStub } from '../cli/cli-harness.js'

// `tenantctl modules ...` against a stub tenantd: the requests it sends and what it prints.

const catalog = {
  items: [
    { name: 'crm', version: '1.0.0', description: 'Customers, products and leads', dependencies: [], tables: ['customers', 'products', 'leads'] },
    { name: 'price-basket', version: '1.0.0', description: 'Price basket: suppliers, quotes and quote items (cp_* tables)', dependencies: [], tables: ['cp_fornecedores', 'cp_orcamentos', 'cp_orcamento_itens'] },
  ],
}
const succeeded = (kind: string) => operationFixture({ id: 'op-9', kind, status: 'succeeded', step: null, progress: 100, finishedAt: '2024-05-01T12:31:00.000Z' })

t.test('modules list prints the catalog as a table', async (t) => {
  const stub = await startStub(t, { 'GET /api/admin/modules': { body: catalog } })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['modules', 'list'], { env })
  t.equal(result.code, 0, result.stderr)
  t.equal(
    result.stdout,
    [
      'NAME          VERSION  DEPENDS  DESCRIPTION',
      'crm           1.0.0    -        Customers, products and leads',
      'price-basket  1.0.0    -        Price basket: suppliers, quotes and quote items (cp_* tables)',
      '',
    ].join('\n'),
  )
})

t.test("modules list <tenant> prints the tenant's modules", async (t) => {
  const stub = await startStub(t, {
    'GET /api/admin/tenants/santarita/modules': { body: { items: [{ name: 'price-basket', version: '1.0.0', installedAt: '2024-05-01T12:30:00.000Z', updatedAt: '2024-05-02T08:00:00.000Z' }] } },
    'GET /api/admin/tenants/gurupi/modules': { body: { items: [] } },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['modules', 'list', 'santarita'], { env })
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /^NAME\s+VERSION\s+INSTALLED\s+UPDATED\nprice-basket\s+1\.0\.0\s+2024-05-01/)
  const none = await runTenantctl(['modules', 'list', 'gurupi'], { env })
  t.match(none.stdout, /No modules installed for gurupi.*tenantctl modules install gurupi <module>/)
  const json = await runTenantctl(['modules', 'list', 'santarita', '--json'], { env })
  t.equal(JSON.parse(json.stdout).items[0].name, 'price-basket')
})

t.test('modules install watches the operation and names the tables', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/santarita/modules/price-basket': { status: 202, body: { operationId: 'op-9', operation: operationFixture({ id: 'op-9', kind: 'module_install', status: 'pending' }), modules: ['price-basket'] } },
    'GET /api/admin/operations/op-9': (_request, hit) => ({ body: hit < 2 ? operationFixture({ id: 'op-9', kind: 'module_install', step: 'migrateModules', progress: 50 }) : succeeded('module_install') }),
    'GET /api/admin/modules': { body: catalog },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['modules', 'install', 'santarita', 'price-basket'], { env })
  t.equal(result.code, 0, result.stderr)
  t.equal(result.stdout, '✓ price-basket installed on santarita (cp_* tables ready)\n')
  t.match(result.stderr, /Installing price-basket on santarita \(operation op-9\)/)
  t.equal(stub.calls('GET /api/admin/operations/op-9').length, 2, 'polled until it succeeded')
})

t.test('modules install reports a failed operation with the retry hint', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/santarita/modules/crm': { status: 202, body: { operationId: 'op-9', operation: operationFixture({ id: 'op-9' }), modules: ['crm'] } },
    'GET /api/admin/operations/op-9': { body: operationFixture({ id: 'op-9', kind: 'module_install', status: 'failed', step: 'migrateModules', error: 'migration crm/0001_crm.sql failed' }) },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['modules', 'install', 'santarita', 'crm'], { env })
  t.equal(result.code, 1)
  t.match(result.stderr, /operation op-9 \(module_install\) failed at step migrateModules: migration crm\/0001_crm\.sql failed\nhint: tenantctl ops retry op-9/)
})

t.test('modules uninstall keeps data; --purge needs confirmation', async (t) => {
  const stub = await startStub(t, {
    'DELETE /api/admin/tenants/santarita/modules/price-basket': { status: 202, body: { operationId: 'op-9', operation: operationFixture({ id: 'op-9', kind: 'module_uninstall' }) } },
    'GET /api/admin/operations/op-9': { body: succeeded('module_uninstall') },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const kept = await runTenantctl(['modules', 'uninstall', 'santarita', 'price-basket'], { env })
  t.equal(kept.code, 0, kept.stderr)
  t.equal(kept.stdout, '✓ price-basket uninstalled from santarita; its tables and data are kept (reinstall to use them again)\n')
  t.equal(stub.calls('DELETE /api/admin/tenants/santarita/modules/price-basket')[0]?.query.get('purge'), null, 'no purge unless asked')

  const refused = await runTenantctl(['modules', 'uninstall', 'santarita', 'price-basket', '--purge'], { env })
  t.equal(refused.code, 2, 'no terminal, no --yes: refused')
  t.match(refused.stderr, /--purge drops the module tables.*\nhint: .*tenantctl modules uninstall santarita price-basket --purge --yes/)
  t.equal(stub.calls('DELETE /api/admin/tenants/santarita/modules/price-basket').length, 1, 'the refused purge sent nothing')

  const purged = await runTenantctl(['modules', 'uninstall', 'santarita', 'price-basket', '--purge', '--yes'], { env })
  t.equal(purged.code, 0, purged.stderr)
  t.equal(purged.stdout, '✓ price-basket uninstalled from santarita; its tables and data were dropped\n')
  t.equal(stub.calls('DELETE /api/admin/tenants/santarita/modules/price-basket')[1]?.query.get('purge'), 'true')
})
