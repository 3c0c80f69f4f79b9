import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { tenantMigrationsDir } from '../../src/migrations/tenant-migrator.js'
import { startHarness } from '../helpers/harness.js'
import { startTestCluster } from '../helpers/cluster.js'

// New tenants are cloned from a per-host template kept at the latest base schema; the result
// must be the same database a from-scratch provision gives, owned by the tenant's role.

const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-migrations-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
await cp(tenantMigrationsDir, dir, { recursive: true })
const cluster = await startTestCluster(t)
const h = await startHarness(t, { cluster, env: { TENANTD_TENANT_MIGRATIONS_DIR: dir } })

const tables = (db: string) =>
  cluster.query<{ tablename: string; tableowner: string }>("select tablename, tableowner from pg_tables where schemaname = 'public' order by tablename", [], db)
const applied = async (db: string) => (await cluster.query<{ name: string }>("select name from tenant_migrations where scope = 'base' order by name", [], db)).rows.map((r) => r.name)

t.test('a cloned tenant database is owned by its tenant role', async (t) => {
  await h.provision({ name: 'Clone One', slug: 'clone-one', adminEmail: 'a@one.test', adminPassword: 'clone-one-pass' })
  const template = await cluster.query("select 1 from pg_database where datname = 'tenantd_template_base'")
  t.equal(template.rowCount, 1, 'the host has a template database')
  const owned = await tables('tenant_clone_one')
  t.same([...new Set(owned.rows.map((r) => r.tableowner))], ['tenant_clone_one_owner'], 'every table belongs to the tenant role')
  t.same(owned.rows.map((r) => r.tablename), ['settings', 'tenant_migrations', 'users'])
  const grants = await cluster.query("select has_schema_privilege('tenantd_template', 'public', 'CREATE') as c", [], 'tenant_clone_one')
  t.equal(grants.rows[0]?.c, false, 'the template role keeps no privilege in the tenant database')
  const login = await h.login('a@one.test', 'clone-one-pass', { 'x-tenant-id': 'clone-one' })
  t.ok(login.accessToken, 'the admin user was created in the clone')
})

t.test('a new base migration refreshes the template before the next clone', async (t) => {
  await writeFile(path.join(dir, 'base', '0002_notes.sql'), 'create table if not exists notes (id serial primary key, body text not null);\n')
  await h.provision({ name: 'Clone Two', slug: 'clone-two' })
  t.same(await applied('tenant_clone_two'), ['0001_base.sql', '0002_notes.sql'])
  t.same(await applied('tenantd_template_base'), ['0001_base.sql', '0002_notes.sql'], 'the template has it too')
  t.ok((await tables('tenant_clone_two')).rows.some((r) => r.tablename === 'notes' && r.tableowner === 'tenant_clone_two_owner'))
})

t.test('a changed applied migration rebuilds the template', async (t) => {
  await writeFile(path.join(dir, 'base', '0002_notes.sql'), 'create table if not exists notes (id serial primary key, body text not null, pinned boolean not null default false);\n')
  await h.provision({ name: 'Clone Three', slug: 'clone-three' })
  const columns = await cluster.query<{ column_name: string }>("select column_name from information_schema.columns where table_name = 'notes' order by ordinal_position", [], 'tenant_clone_three')
  t.same(columns.rows.map((r) => r.column_name), ['id', 'body', 'pinned'])
})

t.test('without the template, provisioning migrates from scratch to the same schema', async (t) => {
  const plain = await startHarness(t, { cluster, env: { TENANTD_TENANT_MIGRATIONS_DIR: dir, TENANTD_PROVISION_TEMPLATE: 'false' } })
  await plain.provision({ name: 'Scratch', slug: 'scratch' })
  t.same(await applied('tenant_scratch'), await applied('tenant_clone_three'))
  t.same((await tables('tenant_scratch')).rows.map((r) => r.tablename), (await tables('tenant_clone_three')).rows.map((r) => r.tablename))
})
