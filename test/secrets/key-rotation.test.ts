import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { loggerOptions, pino } from '../../src/logger.js'
import { SecretSealer } from '../../src/secrets/secret-sealer.js'
import { startTenantd, type Tenantd } from '../../src/tenantd.js'
import { startTestCluster } from '../helpers/cluster.js'
import type { Harness } from '../helpers/harness.js'
import { runServerToExit } from '../helpers/server-process.js'
import { tenantctlAgainst } from '../helpers/tenantctl-runner.js'

/**
 * Key rotation round trip (issue 9): keyring k1 → `k2,k1` → rotate (interrupted once, then
 * run again) → only k2: every tenant reachable, the backup verifies and restores, the db
 * host still provisions → only k3: the process stops naming k2.
 */
const cluster = await startTestCluster(t)
const role = await cluster.createAdminRole('tenantd_keys')
await cluster.query('CREATE DATABASE catalog_keys OWNER tenantd_keys')
const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-keys-backups-'))
const edgeDir = await mkdtemp(path.join(tmpdir(), 'tenantd-keys-edge-'))
t.teardown(() => Promise.all([rm(backupDir, { recursive: true, force: true }), rm(edgeDir, { recursive: true, force: true })]))

const k1 = SecretSealer.generateKeyring('k1')
const k2 = SecretSealer.generateKeyring('k2')
const k3 = SecretSealer.generateKeyring('k3')
const keyMaterial = [k1, k2, k3].map((k) => k.split(':')[1]!)
const superAdmin = { email: 'root@tenantd.test', password: 'root-password-1' }
const catalogUrl = cluster.url('catalog_keys', role.user, role.password)
const baseEnv: Record<string, string> = {
  DATABASE_URL: catalogUrl,
  JWT_SECRET: 'test-jwt-secret-0123456789-0123456789-abcdef',
  TENANTD_ADMIN_EMAIL: superAdmin.email,
  TENANTD_ADMIN_PASSWORD: superAdmin.password,
  TENANTD_BASE_DOMAIN: 'localhost',
  TENANTD_AUTH_RATE_LIMIT: '1000',
  LOG_LEVEL: 'info',
  TENANTD_OPERATION_STALE_MS: '2000',
  TENANTD_CADDY: 'off',
  TENANTD_BACKUP_SCHEDULE: 'off',
  TENANTD_CADDYFILE: path.join(edgeDir, 'Caddyfile'),
  TENANTD_BACKUP_STORAGE: backupDir,
}

/** Everything tenantd logged and answered, for the "no key material" check. */
const seen: string[] = []

interface Instance {
  app: FastifyInstance
  tenantd: Tenantd
  as(options: InjectOptions): Promise<{ statusCode: number; body: string; json(): any }>
  close(): Promise<void>
}

/** One tenantd (in this process) over the shared catalog, with the given keyring. */
async function start(keyring: string): Promise<Instance> {
  const config = loadConfig({ ...baseEnv, TENANTD_MASTER_KEY: keyring })
  const sink = new Writable({
    write(chunk, _encoding, done) {
      seen.push(String(chunk))
      done()
    },
  })
  const tenantd = await startTenantd(config, pino(loggerOptions(config.logLevel), sink), { operations: { sweepMs: 500 } })
  const app = await buildApp(tenantd)
  await app.ready()
  let token: string | undefined
  return {
    app,
    tenantd,
    async as(options) {
      token ??= (await app.inject({ method: 'POST', url: '/api/auth/login', payload: superAdmin })).json().accessToken
      const res = await app.inject({ ...options, headers: { ...(options.headers ?? {}), authorization: `Bearer ${token}` } })
      seen.push(res.body)
      return res
    },
    async close() {
      await app.close()
      await tenantd.close()
    },
  }
}

let current = await start(k1)
t.teardown(() => current.close())
const restart = async (keyring: string) => {
  await current.close()
  current = await start(keyring)
}

const usage = (status: { keys: Array<{ keyId: string }> }, kid: string) => status.keys.find((k) => k.keyId === kid) as Record<string, unknown> | undefined

const tenants = [
  { name: 'Acme', slug: 'acme', adminEmail: 'admin@acme.test', adminPassword: 'acme-password-1' },
  { name: 'Globex', slug: 'globex', adminEmail: 'admin@globex.test', adminPassword: 'globex-password-1' },
]
let backup!: { id: string; storageKey: string; state: string }

t.test('with k1: two tenants provisioned, one backed up', async (t) => {
  await current.tenantd.hosts.register({ name: 'keys-host', host: '127.0.0.1', port: cluster.port, adminUser: role.user, adminPassword: role.password, isDefault: true })

  for (const body of tenants) {
    const res = await current.as({ method: 'POST', url: '/api/admin/tenants/provision?wait=true', payload: body })
    t.equal(res.statusCode, 201, `provisioned ${body.slug}: ${res.body}`)
  }
  const backupRes = await current.as({ method: 'POST', url: '/api/admin/tenants/acme/backups?wait=true' })
  t.equal(backupRes.statusCode, 201, backupRes.body)
  backup = backupRes.json().backup
  t.equal(backup.state, 'verified')
})

t.test('the keyring parses keys on separate lines (the embedded key file with a new first line)', async (t) => {
  const sealer = SecretSealer.fromKeyring(`${k2}\n${k1}\n`)
  t.equal(sealer.activeKeyId, 'k2')
  t.same(sealer.keyIds, ['k2', 'k1'])
})

t.test('with k2 first, status shows every secret still sealed by k1', async (t) => {
  await restart(`${k2},${k1}`)
  const res = await current.as({ method: 'GET', url: '/api/admin/keys' })
  t.equal(res.statusCode, 200, res.body)
  const status = res.json()
  t.equal(status.activeKeyId, 'k2')
  t.same(status.keyIds, ['k2', 'k1'])
  t.match(usage(status, 'k1'), { inKeyring: true, active: false, tenantPasswords: 2, hostPasswords: 1, backupKeys: 1 })
  t.match(usage(status, 'k2'), { inKeyring: true, active: true, total: 0 })
  t.same(status.removableKeyIds, [])
})

t.test('a rotation stopped half-way keeps what it did; running it again completes', async (t) => {
  // Fails every tenant update once one password is under k2: batch 1 (one tenant) commits, batch 2 fails.
  await cluster.query(
    `create function test_stop_rotation() returns trigger language plpgsql as $$
     begin
       if new.password_sealed is distinct from old.password_sealed and exists (select 1 from tenants where password_sealed like 'v1:k2:%') then
         raise exception 'rotation stopped by the test';
       end if;
       return new;
     end $$;
     create trigger test_stop_rotation before update on tenants for each row execute function test_stop_rotation();`,
    [],
    'catalog_keys'
  )
  const stopped = await current.as({ method: 'POST', url: '/api/admin/keys/rotate?wait=true&batchSize=1' })
  t.equal(stopped.statusCode, 200, stopped.body)
  t.equal(stopped.json().operation.status, 'failed')
  t.match(stopped.json().operation.error, /rotation stopped by the test/)
  // Backup keys and host passwords come first (tables in name order), then tenants one per batch.
  t.match(usage(stopped.json().status, 'k2'), { tenantPasswords: 1, hostPasswords: 1, backupKeys: 1 }, 'the batches before the stop stayed re-sealed')
  t.match(usage(stopped.json().status, 'k1'), { tenantPasswords: 1, total: 1 })
  await cluster.query('drop trigger test_stop_rotation on tenants; drop function test_stop_rotation()', [], 'catalog_keys')

  const again = await current.as({ method: 'POST', url: '/api/admin/keys/rotate?wait=true&batchSize=1' })
  t.equal(again.statusCode, 200, again.body)
  t.equal(again.json().operation.status, 'succeeded')
  t.match(again.json().resealed, { tenantPasswords: 1, hostPasswords: 0, backupKeys: 0, unreadableBackups: 0 }, 'only what was left')
  const status = again.json().status
  t.match(usage(status, 'k2'), { tenantPasswords: 2, hostPasswords: 1, backupKeys: 1 })
  t.match(usage(status, 'k1'), { total: 0 })
  t.same(status.removableKeyIds, ['k1'])

  const idle = await current.as({ method: 'POST', url: '/api/admin/keys/rotate?wait=true' })
  t.match(idle.json().resealed, { tenantPasswords: 0, hostPasswords: 0, backupKeys: 0 }, 'nothing left to re-seal')

  const { rows } = await cluster.query<{ details: Record<string, unknown> }>(`select details from audit_logs where action = 'keys.rotated' order by id`, [], 'catalog_keys')
  t.equal(rows.length, 2, 'each finished rotation is audited')
  t.match(rows[0]!.details, { activeKeyId: 'k2', tenantPasswords: 1, hostPasswords: 0, backupKeys: 0 })
  t.notOk(JSON.stringify(rows).includes('v1:'), 'no sealed value in the audit')
})

t.test('a backup from before the catalog kept its data key: the rotation reads it from the header', async (t) => {
  await cluster.query('update backups set data_key_sealed = null', [], 'catalog_keys')
  const before = (await current.as({ method: 'GET', url: '/api/admin/keys' })).json()
  t.equal(before.unrecordedBackupKeys, 1)
  t.same(before.removableKeyIds, [], 'no old key is removable while a backup key is unrecorded')
  const res = await current.as({ method: 'POST', url: '/api/admin/keys/rotate?wait=true' })
  t.match(res.json().resealed, { backupKeys: 1, unreadableBackups: 0 })
  t.match(res.json().status, { unrecordedBackupKeys: 0, removableKeyIds: ['k1'] })
  t.match(usage(res.json().status, 'k2'), { backupKeys: 1 })
})

t.test('tenantctl keys rotate and keys status', async (t) => {
  await cluster.query(`update db_hosts set admin_password_sealed = $1`, [SecretSealer.fromKeyring(k1).seal(role.password)], 'catalog_keys')
  const cli = await tenantctlAgainst({ app: current.app } as unknown as Harness, t)
  const token = (await current.app.inject({ method: 'POST', url: '/api/auth/login', payload: superAdmin })).json().accessToken as string
  const before = await cli.run(['keys', 'status'], { TENANTD_TOKEN: token })
  t.equal(before.code, 0, before.stderr)
  t.match(before.stdout, /KEY ID\s+IN KEYRING\s+ACTIVE\s+TENANT PASSWORDS\s+HOST PASSWORDS\s+BACKUP KEYS/)
  t.match(before.stdout, /^k1\s+yes\s+no\s+0\s+1\s+0$/m)
  t.match(before.stdout, /Key id k1 still seals 1 secret: keep it/)
  const rotated = await cli.run(['keys', 'rotate'], { TENANTD_TOKEN: token })
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, /Key id k1 seals nothing any more: remove it from TENANTD_MASTER_KEY/)
  const json = await cli.run(['keys', 'status', '--json'], { TENANTD_TOKEN: token })
  t.same(JSON.parse(json.stdout).removableKeyIds, ['k1'])
})

t.test('with only k2: tenants reachable, the backup verifies and restores, the host provisions', async (t) => {
  await restart(k2)
  for (const tenant of tenants) {
    const login = await current.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': tenant.slug }, payload: { email: tenant.adminEmail, password: tenant.adminPassword } })
    t.equal(login.statusCode, 200, `${tenant.slug} user logs in from its own database: ${login.body}`)
    const users = await current.app.inject({ method: 'GET', url: '/api/users', headers: { 'x-tenant-id': tenant.slug, authorization: `Bearer ${login.json().accessToken}` } })
    t.equal(users.statusCode, 200, users.body)
  }
  // The file was not rewritten: its header still holds the k1-sealed key; the catalog's copy opens it.
  const file = await readFile(path.join(backupDir, backup.storageKey))
  t.ok(file.includes(Buffer.from('"sealedKey":"v1:k1:')), 'the file header is untouched')
  const verified = await current.as({ method: 'POST', url: `/api/admin/tenants/acme/backups/${backup.id}/verify` })
  t.equal(verified.statusCode, 200, verified.body)
  t.equal(verified.json().ok, true, verified.body)
  const restored = await current.as({ method: 'POST', url: '/api/admin/tenants/acme/restore?wait=true', payload: { backupId: backup.id } })
  t.equal(restored.statusCode, 200, restored.body)
  const connection = await current.as({ method: 'POST', url: '/api/admin/tenants/acme/test-connection' })
  t.equal(connection.json().ok, true, connection.body)
  const third = await current.as({ method: 'POST', url: '/api/admin/tenants/provision?wait=true', payload: { name: 'Initech', slug: 'initech', adminEmail: 'admin@initech.test', adminPassword: 'initech-password-1' } })
  t.equal(third.statusCode, 201, third.body)
})

t.test('a start whose keyring lacks a key id in use stops with one line naming it', async (t) => {
  await current.close()
  const run = await runServerToExit({ ...baseEnv, TENANTD_MASTER_KEY: k3, PORT: String(await freePort()), HOST: '127.0.0.1' }, 60_000)
  t.not(run.code, 0)
  const lines = run.stderr.trim().split('\n')
  t.equal(lines.length, 1, run.stderr)
  t.match(
    lines[0],
    /^tenantd: could not start: 3 tenant passwords, 1 db host password and \d+ backup data keys? (is|are) sealed by key id k2, which TENANTD_MASTER_KEY does not have; add k2 back to TENANTD_MASTER_KEY \(after the active key k3\), then run `tenantctl keys rotate`$/
  )
  seen.push(run.stdout, run.stderr)
  current = await start(k2)
})

t.test('no key material in logs or responses', async (t) => {
  const everything = seen.join('\n')
  for (const key of keyMaterial) t.notOk(everything.includes(key), 'no master key')
})
