import t from 'tap'
import { cliEnv, credentialsFixture, runTenantctl, startStub } from '../cli/cli-harness.js'

// `tenantctl move`: starts the move, shows each step as it goes, ends with the method, the
// freeze and the kept source; `--rollback` calls the rollback route; a refusal says why.

const operation = (fields: Record<string, unknown>) => ({
  id: 'op-1',
  kind: 'move',
  tenantId: 't-1',
  status: 'running',
  step: 'prepareTarget',
  progress: 0,
  error: null,
  attempts: 1,
  createdAt: '2026-12-02T03:00:00.000Z',
  updatedAt: '2026-12-02T03:00:00.000Z',
  finishedAt: null,
  ...fields,
})
const steps = [
  { step: 'copyData', progress: 17 },
  { step: 'catchUp', progress: 33 },
  { step: 'compareTables', progress: 67 },
  { status: 'succeeded', step: 'keepSource', progress: 100 },
]
const moves = {
  items: [
    {
      id: 'm-1',
      operationId: 'op-1',
      method: 'logical',
      methodReason: 'the source host allows logical decoding',
      keptDatabase: 'tenant_acme_moved_20261202030000',
      freezeMs: 312,
      rollbackUntil: '2026-12-05T03:00:00.000Z',
      state: 'kept',
    },
  ],
}

t.test('move --to shows the steps and how the move went', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/move': { status: 202, body: { operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': (_request, hit) => ({ body: operation(steps[Math.min(hit, steps.length) - 1]!) }),
    'GET /api/admin/tenants/acme/moves': { body: moves },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['move', 'acme', '--to', 'db2'], { env })
  t.equal(result.code, 0, result.stderr)
  t.same(stub.calls('POST /api/admin/tenants/acme/move')[0]?.body, { targetHostId: 'db2' })
  for (const step of ['copyData', 'catchUp', 'compareTables']) t.match(result.stderr, step, `progress shows ${step}`)
  t.match(result.stdout, /acme now lives on db2 by logical \(writes frozen 312 ms\); the source is kept as tenant_acme_moved_20261202030000/)
})

t.test('move --rollback calls the rollback route; a refusal is printed with its reason', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/move/rollback': { status: 409, body: { error: 'MoveNotRollbackable', message: 'the source database of the move of "acme" was dropped' } },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['move', 'acme', '--rollback'], { env })
  t.not(result.code, 0)
  t.match(result.stderr, /was dropped/)
  const both = await runTenantctl(['move', 'acme'], { env })
  t.not(both.code, 0, 'neither --to nor --rollback is a usage error')
  t.match(both.stderr, /--to <host> or --rollback/)
})
