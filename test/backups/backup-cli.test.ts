import { mkdtemp, rm, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { fingerprint, seedTenant } from './backup-test-helpers.js'

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: backupDir } })
const tenant = await h.provision({ name: 'Umbrella', slug: 'umbrella', modules: ['price-basket'] })
await seedTenant(h, tenant.database, 'umbrella')
const before = await fingerprint(h, tenant.database)
const cli = await tenantctlAgainst(h, t)
const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
if (login.code !== 0) throw new Error(showRun(login))

t.test('tenantctl backup run | list | show | verify, and restore', async (t) => {
  const run = await cli.run(['backup', 'run', 'umbrella', '--json'])
  t.equal(run.code, 0, showRun(run))
  const { backup } = JSON.parse(run.stdout)
  t.equal(backup.state, 'verified')

  const list = await cli.run(['backup', 'list', 'umbrella'])
  t.equal(list.code, 0, showRun(list))
  t.match(list.stdout, /ID\s+CREATED\s+STATE\s+WHY\s+SIZE\s+SHA-256/)
  t.match(list.stdout, new RegExp(`${backup.id}.*verified`))

  const show = await cli.run(['backup', 'show', 'umbrella', backup.id])
  t.equal(show.code, 0, showRun(show))
  t.match(show.stdout, backup.sha256)
  t.match(show.stdout, /public\.cp_fornecedores\s+60/)

  const verify = await cli.run(['backup', 'verify', 'umbrella', backup.id])
  t.equal(verify.code, 0, showRun(verify))

  await h.cluster.query('delete from cp_orcamento_itens', [], tenant.database)
  const restore = await cli.run(['restore', 'umbrella', backup.id])
  t.equal(restore.code, 0, showRun(restore))
  t.match(restore.stdout + restore.stderr, /restored from backup/)
  t.same(await fingerprint(h, tenant.database), before)
  const restores = await cli.run(['backup', 'restores', 'umbrella'])
  t.equal(restores.code, 0, showRun(restores))
  t.match(restores.stdout, new RegExp(`KEPT UNTIL.*\\n.*${backup.id}.*${tenant.database}_pre_restore_\\d+.*tenantctl restore umbrella --undo`, 's'), 'the kept database and how to undo')

  await truncate(path.join(backupDir, backup.storageKey), 1000)
  const damaged = await cli.run(['backup', 'verify', 'umbrella', backup.id])
  t.equal(damaged.code, 1, showRun(damaged))
  t.match(damaged.stderr, /damaged: .*truncated/)
  const refused = await cli.run(['restore', 'umbrella', backup.id])
  t.not(refused.code, 0)
  t.match(refused.stderr, /failed.*only verified backups are restored/)
})
