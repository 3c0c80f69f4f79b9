import t, { type Test } from 'tap'
import { moveHandler, type MoveOperationDeps } from '../../src/moves/move-operation.js'
import { startTestCluster, type TestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'
import { closeStepGate, installStepGate } from '../helpers/step-gate.js'
import { waitFor } from '../helpers/wait-for.js'
import { killReplica, replicaStarter } from '../helpers/crash-replica.js'
import { installModule, tenantClient } from '../modules/module-test-helpers.js'

// A move whose process is SIGKILLed between two steps, then resumed (retry) or rolled back,
// ends with the tenant served from exactly one host with all its data, no freeze, no slot and
// no stray copy. The kill never races the process: the step gate (test/helpers/step-gate.ts)
// holds the replica before it records the next step, and the test kills it there.

t.setTimeout(300_000)

// The in-process runner does not sweep: the test decides when killed work resumes.
const h = await startHarness(t, { operations: { sweepMs: 3_600_000 } })
const staleMs = Number(h.env.TENANTD_OPERATION_STALE_MS)
const { catalogUrl } = h
const second = await startTestCluster(t)
const db2Admin = await second.createAdminRole('tenantd_db2')
const added = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
if (added.statusCode !== 201) throw new Error(added.body)
await installStepGate(catalogUrl)
const allSteps = moveHandler({} as MoveOperationDeps).steps.map((s) => s.name)

await h.provision({ name: 'Pirapora', slug: 'pirapora', adminEmail: 'admin@pirapora.test', adminPassword: 'pirapora-password' })
await installModule(h, 'pirapora', 'price-basket')
const client = await tenantClient(h, 'pirapora', 'admin@pirapora.test', 'pirapora-password')
let suppliers = 0
const addSuppliers = async (n: number) => {
  for (let i = 0; i < n; i++) {
    const res = await client.request('POST', '/api/price-basket/suppliers', { name: `Fornecedor ${suppliers}` })
    if (res.statusCode !== 201) throw new Error(res.body)
    suppliers++
  }
}
await addSuppliers(20)


const startReplica = replicaStarter(t, h.env, 'move-crash')

const hostOf = async () => (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/pirapora' })).json().hostName as string

/** Starts a move through a replica, holds it once `afterStep` is done, and SIGKILLs it there. */
async function moveAndKill(target: string, afterStep: string): Promise<string> {
  const next = allSteps[allSteps.indexOf(afterStep) + 1]!
  const gate = await closeStepGate(catalogUrl, 'pirapora', next)
  try {
    const { child, url, appName } = await startReplica()
    const res = await fetch(`${url}/api/admin/tenants/pirapora/move`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await h.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ targetHostId: target }),
    })
    const body = (await res.json()) as { operationId: string }
    if (res.status !== 202) throw new Error(`move answered ${res.status}: ${JSON.stringify(body)}`)
    await gate.waitUntilHeld(appName, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the replica exited before reaching ${next}`)
      const op = await h.catalogQuery('select status, step, error from operations where id = $1', [body.operationId])
      const row = op.rows[0] as { status: string; step: string; error: string | null } | undefined
      if (row && row.status !== 'running' && row.status !== 'pending') throw new Error(`the move ended (${row.status} at ${row.step}: ${row.error}) before reaching ${next}`)
    })
    await killReplica({ child, appName }, gate.client)
    return body.operationId
  } finally {
    await gate.end()
  }
}

async function waitForStale(id: string): Promise<void> {
  const row = await h.catalogQuery('select heartbeat_at from operations where id = $1', [id])
  const beat = (row.rows[0]!.heartbeat_at as Date).getTime()
  await waitFor('the killed claim to go stale', async () => (Date.now() - beat > staleMs ? true : undefined))
}

async function waitForEnd(id: string) {
  return waitFor(`operation ${id} to end`, async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()
    return op.status !== 'running' && op.status !== 'pending' ? op : undefined
  })
}

/** What each cluster holds of the tenant: its live database, kept copies, slots. */
async function state(cluster: TestCluster) {
  const dbs = (await cluster.query<{ datname: string; datallowconn: boolean }>("select datname, datallowconn from pg_database where datname like 'tenant_pirapora%'")).rows
  const slots = (await cluster.query('select 1 from pg_replication_slots')).rowCount
  return { live: dbs.some((d) => d.datname === 'tenant_pirapora'), openKept: dbs.filter((d) => d.datname !== 'tenant_pirapora' && d.datallowconn).length, slots }
}

/** Served from exactly one host, unfrozen, with every supplier; nothing stray on either host. */
async function assertWhole(t: Test, expectedHost: string) {
  t.equal(await hostOf(), expectedHost, `the tenant is on ${expectedHost}`)
  const [one, two] = [await state(h.cluster), await state(second)]
  t.same([one.live, two.live], [expectedHost === 'test-host', expectedHost === 'db2'], 'its database lives on exactly that host')
  t.same([one.slots, two.slots, one.openKept, two.openKept], [0, 0, 0, 0], 'no slot and no open kept copy on either host')
  const frozen = await h.tenantd.catalog.db.selectFrom('tenants').select('frozen_until').where('slug', '=', 'pirapora').executeTakeFirstOrThrow()
  t.equal(frozen.frozen_until, null, 'not frozen')
  const list = await waitFor('the tenant to serve', async () => {
    const res = await client.request('GET', '/api/price-basket/suppliers?limit=1')
    return res.statusCode === 200 ? res : undefined
  }, 10_000)
  t.equal(list.json().total, suppliers, 'with every supplier')
}

const cases: Array<{ after: string; then: 'retry' | 'rollback' }> = [
  { after: 'copyData', then: 'retry' },
  { after: 'catchUp', then: 'rollback' },
  { after: 'freeze', then: 'retry' },
  { after: 'applyFinalChanges', then: 'rollback' },
  { after: 'compareTables', then: 'retry' },
  { after: 'switchCatalog', then: 'retry' },
]

for (const { after, then } of cases) {
  t.test(`killed after ${after}, then ${then === 'retry' ? 'retried: the move completes' : 'rolled back: the tenant stays'}`, async (t) => {
    const from = await hostOf()
    const to = from === 'db2' ? 'test-host' : 'db2'
    await addSuppliers(3)
    const operationId = await moveAndKill(to, after)
    await waitForStale(operationId)
    if (then === 'retry') {
      const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
      t.equal(retry.statusCode, 202, retry.body)
      const op = await waitForEnd(operationId)
      t.equal(op.status, 'succeeded', op.error ?? '')
      await assertWhole(t, to)
    } else {
      const rollback = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/rollback` })
      t.equal(rollback.statusCode, 200, rollback.body)
      t.equal(rollback.json().status, 'rolled_back')
      await assertWhole(t, from)
    }
  })
}

t.test('killed while a failed move puts things back: the operation stays failing, and whoever resumes it finishes the failure', async (t) => {
  const from = await hostOf()
  const to = from === 'db2' ? 'test-host' : 'db2'
  const source = from === 'db2' ? second : h.cluster
  // Held before the freeze, where a schema change on the source makes the cutover refuse the move.
  const gate = await closeStepGate(catalogUrl, 'pirapora', 'freeze')
  t.teardown(() => gate.end())
  const { child, url, appName } = await startReplica()
  const res = await fetch(`${url}/api/admin/tenants/pirapora/move`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await h.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ targetHostId: to }),
  })
  const { operationId } = (await res.json()) as { operationId: string }
  t.equal(res.status, 202)
  await gate.waitUntilHeld(appName)
  const { role_name: owner } = await h.tenantd.catalog.db.selectFrom('tenants').select('role_name').where('slug', '=', 'pirapora').executeTakeFirstOrThrow()
  await source.query(`set role ${owner}; create index if not exists cp_fornecedores_crash_late on cp_fornecedores (nome); reset role`, [], 'tenant_pirapora')
  // The gate moves to the revert's last write (its step back to prepareTarget).
  await gate.moveTo('prepareTarget')
  await gate.waitUntilHeld(appName)
  const failing = await h.catalogQuery<{ status: string; error: string | null }>('select status, error from operations where id = $1', [operationId])
  t.equal(failing.rows[0]!.status, 'running', 'while its failure is handled the operation is still claimed')
  t.match(failing.rows[0]!.error, /schema changed on the source/, 'with its error recorded')
  await killReplica({ child, appName }, gate.client)
  await gate.open()
  // The cause is gone by the time it resumes: running its steps again would now pass the
  // comparison and switch a tenant no longer frozen. Finishing the failure is the only safe way.
  await source.query(`drop index cp_fornecedores_crash_late`, [], 'tenant_pirapora')
  await waitForStale(operationId)
  const resumed = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
  t.equal(resumed.statusCode, 202, resumed.body)
  const op = await waitForEnd(operationId)
  t.equal(op.status, 'failed', 'the resumed operation finished the failure instead of running steps again')
  t.match(op.error, /schema changed on the source/, `and kept its cause: ${op.error}`)
  await assertWhole(t, from)
})
