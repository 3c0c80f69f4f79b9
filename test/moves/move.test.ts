import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { StrandedMoves } from '../../src/moves/stranded-moves.js'
import { listTables, tableDigests, type TableDigests } from '../../src/moves/table-copy.js'
import { startTestCluster, type TestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'
import { closeStepGate, installStepGate } from '../helpers/step-gate.js'
import { waitFor } from '../helpers/wait-for.js'
import { installModule, tenantClient, type TenantClient } from '../modules/module-test-helpers.js'

// Moving a tenant between two real PostgreSQL clusters while a client keeps writing through
// tenantd: every acknowledged write arrives, nothing else changes, the client sees 503 only
// while writes are frozen; a target that goes down leaves the tenant on its source untouched;
// a rollback brings the tenant back with the writes made since; the cleanup drops kept copies.

t.setTimeout(240_000)

const h = await startHarness(t)
const second = await startTestCluster(t)
const db2Admin = await second.createAdminRole('tenantd_db2')
const registered = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
if (registered.statusCode !== 201) throw new Error(registered.body)

await h.provision({ name: 'Nova Roma', slug: 'novaroma', adminEmail: 'admin@novaroma.test', adminPassword: 'novaroma-password' })
await installModule(h, 'novaroma', 'price-basket')
const client = await tenantClient(h, 'novaroma', 'admin@novaroma.test', 'novaroma-password')

/** Digests of every table of a database, read as the superuser (a kept database is opened for it). */
async function digestsOf(cluster: TestCluster, database: string): Promise<TableDigests> {
  await cluster.query(`alter database "${database}" with allow_connections true`)
  const c = new pg.Client({ connectionString: cluster.url(database) })
  await c.connect()
  try {
    return await tableDigests(c, await listTables(c))
  } finally {
    await c.end()
  }
}

const roleExists = async (cluster: TestCluster, name: string) => ((await cluster.query('select 1 from pg_roles where rolname = $1', [name])).rowCount ?? 0) > 0
const slotsOn = async (cluster: TestCluster) => (await cluster.query('select slot_name from pg_replication_slots')).rows.length

// Seed: suppliers and quotes with items, so base and module tables hold data.
const suppliers = new Map<string, string>()
for (let i = 0; i < 60; i++) {
  const res = await client.request('POST', '/api/price-basket/suppliers', { name: `Fornecedor ${i}` })
  if (res.statusCode !== 201) throw new Error(res.body)
  suppliers.set(res.json().id, `Fornecedor ${i}`)
}
for (let i = 0; i < 10; i++) {
  const quote = await client.request('POST', '/api/price-basket/quotes', { number: `2026/${i}`, description: `Orçamento ${i}` })
  if (quote.statusCode !== 201) throw new Error(quote.body)
  for (let j = 0; j < 5; j++) {
    const item = await client.request('POST', `/api/price-basket/quotes/${quote.json().id}/items`, { description: `Item ${j}`, quantity: j + 1, unitPrice: 10.5 })
    if (item.statusCode !== 201) throw new Error(item.body)
  }
}

/**
 * Writes through tenantd until stopped, one at a time: insert, rename or delete a supplier.
 * The model holds exactly the acknowledged writes; every other answer is kept for inspection.
 */
function startWriter(tenant: TenantClient, model: Map<string, string>) {
  const refused: Array<{ status: number; error: string; retryAfter: string | undefined; at: number }> = []
  let stop = false
  let acknowledged = 0
  let n = 0
  const done = (async () => {
    while (!stop) {
      n++
      const ids = [...model.keys()]
      const pick = ids[n % Math.max(1, ids.length)]
      let res
      if (n % 3 === 0 && pick) {
        res = await tenant.request('DELETE', `/api/price-basket/suppliers/${pick}`)
        if (res.statusCode === 204) model.delete(pick)
      } else if (n % 3 === 1 && pick) {
        const name = `Renamed ${n}`
        res = await tenant.request('PATCH', `/api/price-basket/suppliers/${pick}`, { name })
        if (res.statusCode === 200) model.set(pick, name)
      } else {
        const name = `Written ${n}`
        res = await tenant.request('POST', '/api/price-basket/suppliers', { name })
        if (res.statusCode === 201) model.set(res.json().id, name)
      }
      if (res.statusCode < 300) acknowledged++
      else {
        refused.push({ status: res.statusCode, error: res.json().error, retryAfter: res.headers['retry-after'] as string | undefined, at: Date.now() })
        // A client retrying a refused write soon, as a real one would (not busy-looping the in-process server).
        await sleep(10)
      }
    }
  })()
  return {
    refused,
    get acknowledged() {
      return acknowledged
    },
    async stop() {
      stop = true
      await done
    },
  }
}

type Refusal = { status: number; error: string; retryAfter: string | undefined }
/**
 * What a cutover may answer: 503 TenantFrozen, or 503 TenantDatabaseUnavailable for a request
 * that passed the freeze check an instant before and then found the old host closed to it.
 */
const refusedByCutover = (r: Refusal) => r.status === 503 && ['TenantFrozen', 'TenantDatabaseUnavailable'].includes(r.error) && Number(r.retryAfter) >= 1
const describeRefusals = (refused: Refusal[]) => `${refused.length}: ${[...new Set(refused.map((r) => `${r.status} ${r.error}`))].join(', ') || 'none'}`

const tenantRow = async () => (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/novaroma' })).json()

t.test('a move under writes: every acknowledged write on the target, nothing else changed, 503 only while frozen', async (t) => {
  // A table of the tenant's own with a sequence: its position must follow the data. Its json
  // and point columns have no hash function, so the move compares it by its rows' text form.
  await h.cluster.query(
    "set role tenant_novaroma_owner; create table counters (id serial primary key, label text, doc json, spot point); insert into counters (label, doc, spot) select g::text, json_build_object('g', g), point(g, g) from generate_series(1, 5) g",
    [],
    'tenant_novaroma'
  )
  const writer = startWriter(client, suppliers)
  await waitFor('the writer to get going', async () => (writer.acknowledged >= 10 ? true : undefined))
  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'db2' } })
  t.equal(started.statusCode, 202, started.body)
  const operationId = started.json().operationId
  const steps = new Set<string>()
  const operation = await waitFor('the move to end', async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    if (op.step) steps.add(op.step)
    return op.status === 'succeeded' || op.status === 'failed' ? op : undefined
  })
  const ackedAtSwitch = writer.acknowledged
  await waitFor('some writes after the move', async () => (writer.acknowledged >= ackedAtSwitch + 10 ? true : undefined))
  await writer.stop()
  t.equal(operation.status, 'succeeded', operation.error ?? '')
  t.ok(steps.size >= 3, `progress went through steps (${[...steps].join(', ')})`)

  const tenant = await tenantRow()
  t.equal(tenant.hostName, 'db2', 'the catalog points at the target host')
  const moves = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/novaroma/moves' })).json().items
  t.equal(moves.length, 1)
  const move = moves[0]
  t.equal(move.method, 'logical', 'logical decoding was used')
  t.match(move.methodReason, /logical decoding/)
  t.equal(move.state, 'kept')
  const result = (await h.tenantd.catalog.db.selectFrom('operations').select('result').where('id', '=', operationId).executeTakeFirstOrThrow()).result as { changesApplied: number }
  t.ok(result.changesApplied > 0, `changes made during the copy were captured and applied (${result.changesApplied})`)

  // Every acknowledged write, and only those, as the client sees them now (served from db2).
  const listed = new Map<string, string>()
  for (let offset = 0; ; offset += 100) {
    const page = (await client.request('GET', `/api/price-basket/suppliers?limit=100&offset=${offset}`)).json()
    for (const s of page.items) listed.set(s.id, s.name)
    if (page.items.length < 100) break
  }
  t.same(Object.fromEntries([...listed].sort()), Object.fromEntries([...suppliers].sort()), 'the suppliers are exactly the acknowledged writes')

  t.ok(writer.refused.every(refusedByCutover), `the client saw only 503 with Retry-After (${describeRefusals(writer.refused)})`)
  if (writer.refused.length) {
    const span = writer.refused[writer.refused.length - 1]!.at - writer.refused[0]!.at
    t.ok(span <= (move.freezeMs ?? 0) + 500, `the 503s fell within the freeze (${span} ms of a ${move.freezeMs} ms freeze)`)
  }
  t.ok(move.freezeMs !== null && move.freezeMs < 10_000, `writes were frozen ${move.freezeMs} ms`)

  // The kept source (after the freeze nothing wrote to it) against the target, table by table.
  t.notOk(await h.cluster.databaseExists('tenant_novaroma'), 'the source database is no longer under its name')
  t.ok(await h.cluster.databaseExists(move.keptDatabase), 'it is kept, renamed')
  const allow = await h.cluster.query<{ datallowconn: boolean }>('select datallowconn from pg_database where datname = $1', [move.keptDatabase])
  t.equal(allow.rows[0]!.datallowconn, false, 'and closed to connections')
  await h.cluster.query(`alter database "${move.keptDatabase}" with allow_connections true`)
  const [source, target] = await Promise.all([digestsOf(h.cluster, move.keptDatabase), digestsOf(second, 'tenant_novaroma')])
  await h.cluster.query(`alter database "${move.keptDatabase}" with allow_connections false`)
  delete source['public.cp_fornecedores']
  delete target['public.cp_fornecedores']
  t.same(target, source, 'every other table is identical on both hosts (row counts and checksums)')
  t.ok(Object.keys(target).some((name) => name.includes('cp_orcamento_itens')), 'module tables were compared')
  t.equal(await slotsOn(h.cluster), 0, 'no replication slot left on the source')
  const sequence = await second.query<{ last_value: string }>('select last_value::text from counters_id_seq', [], 'tenant_novaroma')
  t.equal(sequence.rows[0]!.last_value, '5', 'sequences continue where the source left them')
  const bookkeeping = await second.query("select 1 from pg_namespace where nspname = 'tenantd_move'", [], 'tenant_novaroma')
  t.equal(bookkeeping.rowCount, 0, 'no move bookkeeping left in the target database')
  t.notOk(h.logLines.some((line) => line.includes(db2Admin.password)), 'no host password in the logs')
})

t.test('rollback: the tenant returns to its source with the writes made since', async (t) => {
  const after = await client.request('POST', '/api/price-basket/suppliers', { name: 'Written after the move' })
  t.equal(after.statusCode, 201)
  suppliers.set(after.json().id, 'Written after the move')
  const earlier = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/novaroma/moves' })).json().items[0]
  const back = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move/rollback?wait=true' })
  t.equal(back.statusCode, 200, back.body)
  t.equal((await tenantRow()).hostName, 'test-host', 'the tenant is on its first host again')
  const got = await client.request('GET', `/api/price-basket/suppliers/${after.json().id}`)
  t.equal(got.statusCode, 200, 'the write made after the move is there')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).json().total, suppliers.size, 'and every other supplier')
  t.notOk(await h.cluster.databaseExists(earlier.keptDatabase), 'the stale copy kept by the first move is dropped')
  const moves = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/novaroma/moves' })).json().items
  t.match(moves.map((m: { state: string }) => m.state), ['kept', 'rolled_back'])
  const again = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move/rollback' })
  t.equal(again.statusCode, 202, 'the rollback itself can be rolled back (it is a move)')
  await waitFor('that move to end', async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${again.json().operationId}` })).json()
    return op.status === 'succeeded' || op.status === 'failed' ? op : undefined
  })
  t.equal((await tenantRow()).hostName, 'db2')
  const none = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move/rollback' })
  t.equal(none.statusCode, 202)
  await waitFor('the second rollback to end', async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${none.json().operationId}` })).json()
    return op.status === 'succeeded' || op.status === 'failed' ? op : undefined
  })
  t.equal((await tenantRow()).hostName, 'test-host')
})

t.test('the cleanup drops kept source databases once their rollback time passed', async (t) => {
  const kept = await h.tenantd.catalog.db.selectFrom('tenant_moves').selectAll().where('state', '=', 'kept').execute()
  t.ok(kept.length >= 1)
  await h.tenantd.catalog.db.updateTable('tenant_moves').set({ rollback_until: new Date(Date.now() - 1000) }).where('state', '=', 'kept').execute()
  const dropped = await h.tenantd.moveCleanup.runOnce()
  t.same(dropped.sort(), kept.map((k) => k.kept_database).sort())
  t.notOk(await second.databaseExists(kept[0]!.kept_database), 'the kept database is gone from db2')
  t.notOk(await roleExists(second, 'tenant_novaroma_owner'), 'and the tenant role with it (the tenant lives elsewhere)')
  const refused = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move/rollback' })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { error: 'MoveNotRollbackable', message: /was dropped at/ })
})

t.test('a source host without logical decoding: everything copied under the freeze, and the move says why', async (t) => {
  await second.query('ALTER ROLE tenantd_db2 NOREPLICATION')
  t.teardown(() => second.query('ALTER ROLE tenantd_db2 REPLICATION'))
  const there = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move?wait=true', payload: { targetHostId: 'db2' } })
  t.equal(there.statusCode, 200, there.body)
  t.equal(there.json().move.method, 'logical', 'off the first host: logical decoding')
  const writer = startWriter(client, suppliers)
  await waitFor('the writer to get going', async () => (writer.acknowledged >= 5 ? true : undefined))
  const back = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'test-host' } })
  t.equal(back.statusCode, 202, back.body)
  const op = await waitFor('the move back to end', async () => {
    const o = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${back.json().operationId}` })).json()
    return o.status === 'succeeded' || o.status === 'failed' ? o : undefined
  })
  const acked = writer.acknowledged
  await waitFor('writes after the move', async () => (writer.acknowledged >= acked + 5 ? true : undefined))
  await writer.stop()
  t.equal(op.status, 'succeeded', op.error ?? '')
  const move = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/novaroma/moves' })).json().items[0]
  t.equal(move.method, 'frozen-copy', 'off db2: the frozen copy')
  t.match(move.methodReason, /lacks REPLICATION/, `and why: ${move.methodReason}`)
  t.equal((await tenantRow()).hostName, 'test-host')
  t.ok(writer.refused.every(refusedByCutover), `only 503 with Retry-After (${describeRefusals(writer.refused)})`)
  const total = (await client.request('GET', '/api/price-basket/suppliers?limit=1')).json().total
  t.equal(total, suppliers.size, 'every acknowledged write is there')
})

t.test('a target host that goes down mid-move: the tenant stays on its source, untouched, nothing left behind', async (t) => {
  const third = await startTestCluster(t)
  const db3Admin = await third.createAdminRole('tenantd_db3')
  const added = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db3', host: '127.0.0.1', port: third.port, adminUser: db3Admin.user, adminPassword: db3Admin.password } })
  t.equal(added.statusCode, 201)
  const before = await digestsOf(h.cluster, 'tenant_novaroma')
  // Hold the move in copySchema: pg_dump waits for a lock the test holds on a tenant table.
  const holder = new pg.Client({ connectionString: h.cluster.url('tenant_novaroma') })
  await holder.connect()
  await holder.query('begin')
  await holder.query('lock table cp_fornecedores in access exclusive mode')
  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'db3' } })
  t.equal(started.statusCode, 202, started.body)
  const operationId = started.json().operationId
  // pg_dump reads the schema while the target database is made: wait for both.
  await waitFor('the move to wait on the lock with its target database made', async () => {
    const { rowCount } = await h.cluster.query("select 1 from pg_stat_activity where datname = 'tenant_novaroma' and wait_event_type = 'Lock'")
    return rowCount && (await third.databaseExists('tenant_novaroma')) ? true : undefined
  })
  await third.stop()
  await holder.query('rollback')
  await holder.end()
  const op = await waitFor('the move to fail', async () => {
    const o = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    return o.status === 'failed' ? o : undefined
  })
  t.match(op.error, new RegExp(`target 127.0.0.1:${third.port}`), `the error says why: ${op.error}`)
  const tenant = await tenantRow()
  t.equal(tenant.hostName, 'test-host', 'the tenant stays on its source')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).statusCode, 200, 'and serves')
  t.same(await digestsOf(h.cluster, 'tenant_novaroma'), before, 'its data untouched')
  t.equal(await slotsOn(h.cluster), 0, 'no slot left on the source')
  const login = await h.cluster.query<{ rolcanlogin: boolean }>("select rolcanlogin from pg_roles where rolname = 'tenant_novaroma_owner'")
  t.equal(login.rows[0]!.rolcanlogin, true, 'its role logs in on the source')
  const frozen = await h.tenantd.catalog.db.selectFrom('tenants').select(['frozen_until']).where('slug', '=', 'novaroma').executeTakeFirstOrThrow()
  t.equal(frozen.frozen_until, null, 'no freeze left')
})

t.test("a table the tenant's role cannot read (made by a superuser): the move is refused saying what to run; the tenant stays", async (t) => {
  await h.cluster.query('create table public.dba_notes (note text)', [], 'tenant_novaroma')
  t.teardown(() => h.cluster.query('drop table if exists public.dba_notes', [], 'tenant_novaroma'))
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move?wait=true', payload: { targetHostId: 'db2' } })
  t.equal(res.statusCode, 409, res.body)
  t.match(res.json().message, /permission denied for table dba_notes/, "pg_dump's own words")
  t.match(res.json().message, /make that role its owner \(ALTER TABLE dba_notes OWNER TO tenant_novaroma_owner\) and retry/, 'and the next step')
  t.equal((await tenantRow()).hostName, 'test-host', 'the tenant stays on its source')
  t.equal(await second.databaseExists('tenant_novaroma'), false, 'nothing left on the target')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).statusCode, 200, 'and it serves')
})

t.test('a target that differs from the source in a row changed during the move is caught at the cutover; the tenant stays', async (t) => {
  const { catalogUrl } = h
  await installStepGate(catalogUrl)
  // Held after the final changes were applied, under the freeze, before the comparison.
  const gate = await closeStepGate(catalogUrl, 'novaroma', 'compareTables')
  t.teardown(() => gate.end())
  const writer = startWriter(client, suppliers)
  await waitFor('the writer to get going', async () => (writer.acknowledged >= 5 ? true : undefined))
  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'db2' } })
  t.equal(started.statusCode, 202, started.body)
  await gate.waitUntilHeld()
  // A row the move's applied changes touched, altered on the target behind the move's back.
  const tampered = await second.query(
    `update cp_fornecedores set nome = 'tampered' where id = (
       select f.id from cp_fornecedores f join tenantd_move.touched k on k.tbl = 'public.cp_fornecedores' and f.id = (k.key->>'id')::uuid limit 1)`,
    [],
    'tenant_novaroma'
  )
  t.equal(tampered.rowCount, 1, 'a touched row exists on the target to alter')
  await gate.open()
  const op = await waitFor('the move to fail', async () => {
    const o = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${started.json().operationId}` })).json()
    return o.status === 'failed' || o.status === 'succeeded' ? o : undefined
  })
  const acked = writer.acknowledged
  await waitFor('writes after the failed move', async () => (writer.acknowledged >= acked + 5 ? true : undefined))
  await writer.stop()
  t.equal(op.status, 'failed', 'the move stopped')
  t.match(op.error, /public\.cp_fornecedores: rows changed during the move differ/, `and says where: ${op.error}`)
  t.equal((await tenantRow()).hostName, 'test-host', 'the tenant stays on its source')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).json().total, suppliers.size, 'with every acknowledged write')
  t.notOk(await second.databaseExists('tenant_novaroma'), 'the partial copy on the target is dropped')
  t.equal(await slotsOn(h.cluster), 0, 'no slot left on the source')
})

t.test('a schema change on the source during the move (an index a migration adds) is caught at the cutover; the tenant stays', async (t) => {
  const { catalogUrl } = h
  await installStepGate(catalogUrl)
  // Held once the copy caught up, before the freeze: the schema was copied long before.
  const gate = await closeStepGate(catalogUrl, 'novaroma', 'freeze')
  t.teardown(() => gate.end())
  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'db2' } })
  t.equal(started.statusCode, 202, started.body)
  await gate.waitUntilHeld()
  const { role_name: owner } = await h.tenantd.catalog.db.selectFrom('tenants').select('role_name').where('slug', '=', 'novaroma').executeTakeFirstOrThrow()
  await h.cluster.query(`set role ${owner}; create index cp_fornecedores_nome_late on cp_fornecedores (nome); reset role`, [], 'tenant_novaroma')
  await gate.open()
  const op = await waitFor('the move to end', async () => {
    const o = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${started.json().operationId}` })).json()
    return o.status === 'failed' || o.status === 'succeeded' ? o : undefined
  })
  t.equal(op.status, 'failed', 'the move stopped')
  t.match(op.error, /schema changed on the source during the move \(index public\.cp_fornecedores_nome_late: only on the source\)/, `and names the object: ${op.error}`)
  t.equal((await tenantRow()).hostName, 'test-host', 'the tenant stays on its source')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).json().total, suppliers.size, 'serving every acknowledged write')
  t.notOk(await second.databaseExists('tenant_novaroma'), 'the partial copy on the target is dropped')
  t.equal(await slotsOn(h.cluster), 0, 'no slot left on the source')
  // With the schema settled, the move goes through, the index with it.
  const again = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move?wait=true', payload: { targetHostId: 'db2' } })
  t.equal(again.statusCode, 200, again.body)
  const index = await second.query(`select 1 from pg_indexes where indexname = 'cp_fornecedores_nome_late'`, [], 'tenant_novaroma')
  t.equal(index.rowCount, 1, 'the late index is on the target')
  const back = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move?wait=true', payload: { targetHostId: 'test-host' } })
  t.equal(back.statusCode, 200, back.body)
})

/** A TCP proxy in front of a cluster, on a fixed port: `down()` refuses and cuts every connection, `up()` serves again. */
async function proxyTo(port: number) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  const listenPort = await freePort()
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(port, '127.0.0.1')
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(listenPort, '127.0.0.1', () => resolve())
    })
  const down = async () => {
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }
  await up()
  return { port: listenPort, up, down }
}

t.test('a source host that goes down in the cutover: the move fails, and once the host is back the tenant is open there again', async (t) => {
  const proxy = await proxyTo(second.port)
  t.teardown(() => proxy.down())
  const added = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2p', host: '127.0.0.1', port: proxy.port, adminUser: db2Admin.user, adminPassword: db2Admin.password } })
  t.equal(added.statusCode, 201, added.body)
  const there = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move?wait=true', payload: { targetHostId: 'db2p' } })
  t.equal(there.statusCode, 200, there.body)
  t.equal((await tenantRow()).hostName, 'db2p', 'the tenant lives behind the proxy')

  const { catalogUrl } = h
  // Held after the freeze closed the source to the tenant, before the last changes are read from it.
  const gate = await closeStepGate(catalogUrl, 'novaroma', 'applyFinalChanges')
  t.teardown(() => gate.end())
  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/novaroma/move', payload: { targetHostId: 'test-host' } })
  t.equal(started.statusCode, 202, started.body)
  const operationId = started.json().operationId
  await gate.waitUntilHeld()
  await proxy.down()
  await gate.open()
  const failed = await waitFor('the move to fail', async () => {
    const o = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    return o.status === 'failed' ? o : undefined
  })
  t.match(failed.error, /127\.0\.0\.1:\d+/, `it says which host failed: ${failed.error}`)
  t.equal((await tenantRow()).hostName, 'db2p', 'the catalog still points at the source')

  await proxy.up()
  const recovery = new StrandedMoves({ catalog: h.tenantd.catalog.db, operations: h.tenantd.operations, log: h.tenantd.log, retryAfterMs: 0 })
  t.same(await recovery.runOnce(), [operationId], 'the recovery sweep takes the stranded move')
  const after = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
  t.equal(after.status, 'rolled_back', 'and rolls it back')
  t.same(await recovery.runOnce(), [], 'once')
  const login = await second.query<{ rolcanlogin: boolean }>("select rolcanlogin from pg_roles where rolname = 'tenant_novaroma_owner'")
  t.equal(login.rows[0]!.rolcanlogin, true, 'the tenant role logs in on its host again')
  const written = await client.request('POST', '/api/price-basket/suppliers', { name: 'Written after the recovery' })
  t.equal(written.statusCode, 201, 'the tenant takes writes again')
  suppliers.set(written.json().id, 'Written after the recovery')
  t.equal((await client.request('GET', '/api/price-basket/suppliers?limit=1')).json().total, suppliers.size, 'with every acknowledged write')
  t.notOk(await h.cluster.databaseExists('tenant_novaroma'), 'no copy left on the target')
  t.equal(await slotsOn(second), 0, 'no slot left on the source')
})
