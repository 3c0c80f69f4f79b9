import pg from 'pg'
import t from 'tap'
import { dropDatabase, withSessionsEnded } from '../../src/hosts/database-sessions.js'
import { startTestCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/wait-for.js'

// A move keeps its source database by renaming it, a restore swaps databases by renaming, and
// cleanups drop databases: each must first end the database's sessions. tenantd's host role is
// not a superuser, and PostgreSQL refuses it the sessions of a superuser and autovacuum workers
// (which have no role): a bare pg_terminate_backend over every session, or DROP DATABASE ...
// WITH (FORCE), then fails as a whole. Autovacuum works in a database right after a large copy
// or restore, so that failure hit a 1 GB move at its last step (bench:move).

const cluster = await startTestCluster(t)
const admin = await cluster.createAdminRole('host_admin')
await cluster.query(`CREATE ROLE acme LOGIN PASSWORD 'acme-pass'`)
await cluster.query(`GRANT acme TO host_admin`)
// Autovacuum looks at each database every second (default: every minute).
await cluster.query(`ALTER SYSTEM SET autovacuum_naptime = '1s'`)
await cluster.query('select pg_reload_conf()')

const adminClient = async () => {
  const client = new pg.Client({ connectionString: cluster.url('postgres', admin.user, admin.password) })
  await client.connect()
  t.teardown(() => client.end())
  return client
}
const databaseExists = (name: string) => cluster.databaseExists(name)

/** A database of `acme` in which an autovacuum worker is running (held slow by the table's cost settings) when this returns. */
async function databaseUnderAutovacuum(name: string): Promise<void> {
  await cluster.query(`CREATE DATABASE ${name} OWNER acme`)
  const setup = [
    `create table big (id int, pad text) with (autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1, autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0)`,
    `insert into big select g, repeat('x', 200) from generate_series(1, 100000) g`,
    `delete from big where id % 2 = 0`,
  ]
  for (const sql of setup) await cluster.query(sql, [], name)
  await waitFor(`an autovacuum worker in ${name}`, async () =>
    (await cluster.query(`select 1 from pg_stat_activity where datname = $1 and backend_type = 'autovacuum worker'`, [name])).rowCount ? true : undefined
  )
}

t.test('with autovacuum working in the database, the host role renames and drops it; WITH (FORCE) would have failed', async (t) => {
  const client = await adminClient()
  await databaseUnderAutovacuum('av_rename')
  await t.rejects(client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', ['av_rename']), /superuser/, 'the old way: terminating every session is refused')
  await withSessionsEnded(client, 'av_rename', () => client.query('ALTER DATABASE av_rename RENAME TO av_renamed'))
  t.ok(await databaseExists('av_renamed'), 'renamed')

  await databaseUnderAutovacuum('av_drop')
  await t.rejects(client.query('DROP DATABASE av_drop WITH (FORCE)'), /pg_signal_backend|superuser/, 'the old way: DROP DATABASE WITH (FORCE) is refused')
  t.ok(await databaseExists('av_drop'), 'still there after the refused drop')
  await dropDatabase(client, 'av_drop')
  t.notOk(await databaseExists('av_drop'), 'dropped')
  await dropDatabase(client, 'av_drop')
  t.pass('dropping a database that is gone is a no-op')
})

t.test("the tenant role's sessions are ended; a superuser's session is named in the error, never killed", async (t) => {
  const client = await adminClient()
  await cluster.query('CREATE DATABASE busy OWNER acme')
  const tenantSession = new pg.Client({ connectionString: cluster.url('busy', 'acme', 'acme-pass') })
  tenantSession.on('error', () => {})
  await tenantSession.connect()
  const ended = new Promise<void>((resolve) => tenantSession.once('end', () => resolve()))
  await withSessionsEnded(client, 'busy', () => client.query('ALTER DATABASE busy RENAME TO busy_kept'))
  await ended
  t.ok(await databaseExists('busy_kept'), "renamed once the tenant's session was ended")

  const operator = new pg.Client({ connectionString: cluster.url('busy_kept'), application_name: 'psql' })
  await operator.connect()
  t.teardown(() => operator.end())
  const { rows } = await operator.query<{ pid: number }>('select pg_backend_pid() as pid')
  const error = await withSessionsEnded(client, 'busy_kept', () => client.query('DROP DATABASE busy_kept'), 300).then(
    () => undefined,
    (e: Error) => e
  )
  t.ok(error, 'the drop fails while the superuser session is there')
  t.match(error?.message, `pid ${rows[0]!.pid} (role postgres, psql)`, 'names the session that is in the way')
  t.match(error?.message, /end them as a superuser \(select pg_terminate_backend/, 'says how to end it')
  t.equal((await operator.query('select 1 as one')).rows[0].one, 1, "the superuser's session still works")
  t.ok(await databaseExists('busy_kept'), 'the database is untouched')
})
