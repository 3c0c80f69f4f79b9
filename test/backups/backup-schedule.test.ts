import pino from 'pino'
import t from 'tap'
import { latestSlot, validCron } from '../../src/backups/backup-schedule-times.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startTenantd } from '../../src/tenantd.js'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { databasesLike } from './backup-test-helpers.js'

// Scheduled backups: each slot runs once however many replicas fire it, every active tenant
// of the plans on that schedule is backed up within the concurrency bounds, failures are
// retried then reported, a missed slot is caught up at start, a sample is test-restored into
// a scratch database that never outlives the check.

const daily = '0 2 * * *'
const h = await startHarness(t, {
  env: {
    TENANTD_BACKUP_SCHEDULE: daily,
    TENANTD_BACKUP_CONCURRENCY: '2',
    TENANTD_BACKUP_HOST_CONCURRENCY: '1',
    TENANTD_BACKUP_ATTEMPTS: '2',
    TENANTD_BACKUP_TEST_RESTORE_SHARE: '0',
  },
})
const { tenantd } = h
const scheduler = tenantd.backupScheduler

await h.provision({ name: 'Acme', slug: 'acme' })
await h.provision({ name: 'Beta', slug: 'beta' })
await h.provision({ name: 'Gamma', slug: 'gamma', plan: 'pro' })
await h.provision({ name: 'Sleepy', slug: 'sleepy' })
await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/sleepy/suspend', payload: { reason: 'unpaid' } })
// The harness's own start claimed today's slot before these tenants existed: run the test's slots on other days.
const slotBackups = (slotAt: Date) =>
  tenantd.catalog.db
    .selectFrom('backups')
    .innerJoin('tenants', 'tenants.id', 'backups.tenant_id')
    .select(['tenants.slug', 'backups.state', 'backups.reason', 'backups.created_at', 'backups.verified_at', 'backups.test_restored_at', 'backups.id'])
    .where('backups.slot_at', '=', slotAt)
    .orderBy('tenants.slug')
    .execute()

t.test('cron helpers', async (t) => {
  t.ok(validCron('0 2 * * *'))
  t.notOk(validCron('0 0 2 * * *'), 'six fields (seconds) refused: slots are minutes')
  t.notOk(validCron('every day'))
  const at2 = (d: Date) => d.getUTCHours() === 2 && d.getUTCMinutes() === 0
  t.same(latestSlot(at2, new Date('2026-12-02T10:17:42Z'), 24), new Date('2026-12-02T02:00:00Z'))
  t.same(latestSlot(at2, new Date('2026-12-02T01:59:00Z'), 24), new Date('2026-12-01T02:00:00Z'))
  t.equal(latestSlot(at2, new Date('2026-12-02T10:00:00Z'), 6), undefined, 'nothing within the window')
  t.throws(() => loadConfig({ TENANTD_BACKUP_SCHEDULE: 'daily' }), ConfigError)
  t.throws(() => loadConfig({ TENANTD_BACKUP_TIMEZONE: 'Mars/Olympus' }), ConfigError)
  t.throws(() => loadConfig({ TENANTD_BACKUP_TEST_RESTORE_SHARE: '2' }), ConfigError)
  t.equal(loadConfig({}).backupSchedule.cron, '0 2 * * *', 'daily at 02:00 by default')
  t.equal(loadConfig({ TENANTD_BACKUP_SCHEDULE: 'off' }).backupSchedule.cron, undefined)
})

t.test('two replicas firing the same slot produce one backup per active tenant', async (t) => {
  const replica = await startTenantd(loadConfig(h.env), pino({ level: 'silent' }))
  t.teardown(() => replica.close())
  const slotAt = new Date('2026-11-20T02:00:00Z')
  const [a, b] = await Promise.all([scheduler.runSlot(daily, slotAt), replica.backupScheduler.runSlot(daily, slotAt)])
  const ran = [a, b].filter((r) => r !== undefined)
  t.equal(ran.length, 1, 'exactly one replica ran the slot')
  t.match(ran[0], { tenants: 3, backedUp: 3, failed: [] })
  const rows = await slotBackups(slotAt)
  t.same(rows.map((r) => r.slug), ['acme', 'beta', 'gamma'], 'one backup each for the active tenants, none for the suspended one')
  t.ok(rows.every((r) => r.state === 'verified' && r.reason === 'scheduled'), 'verified, marked scheduled')

  // One db host, host concurrency 1: no two backups overlapped.
  const spans = rows.map((r) => [new Date(r.created_at).getTime(), new Date(r.verified_at!).getTime()] as const).sort((x, y) => x[0] - y[0])
  for (let i = 1; i < spans.length; i++) t.ok(spans[i]![0] >= spans[i - 1]![1], `backup ${i + 1} started after backup ${i} ended (host concurrency 1)`)

  // Firing it again (a late timer, a third replica) does nothing.
  t.equal(await scheduler.runSlot(daily, slotAt), undefined, 'a claimed slot is not run twice')
  t.equal((await slotBackups(slotAt)).length, 3)

  // Every tenant's first scheduled backup is test-restored (weekly rule), even with share 0, and no scratch database remains.
  t.ok(rows.every((r) => r.test_restored_at !== null), 'test-restored')
  t.same(await databasesLike(h, '%\\_testrestore\\_%'), [], 'no scratch database left')
  const slot = await tenantd.catalog.db.selectFrom('backup_slots').selectAll().where('slot_at', '=', slotAt).executeTakeFirstOrThrow()
  t.match(slot, { tenants: 3, failed: 0 })
  t.ok(slot.finished_at, 'the slot is recorded finished')
})

t.test('a missed slot is caught up when a replica starts, once', async (t) => {
  // Every replica was down at the latest 02:00: its slot was never claimed.
  const latest = latestSlot((d) => d.getUTCHours() === 2 && d.getUTCMinutes() === 0, new Date(Date.now() - 60_000), 24)!
  await tenantd.catalog.db.deleteFrom('backup_slots').where('slot_at', '=', latest).execute()
  const results = await scheduler.catchUp()
  t.equal(results.length, 1, 'one slot caught up')
  t.same(results[0]?.slotAt, latest)
  t.same((await slotBackups(latest)).map((r) => r.slug), ['acme', 'beta', 'gamma'])
  t.same(await scheduler.catchUp(), [], 'nothing left to catch up')
})

t.test('a plan with its own schedule', async (t) => {
  const hourly = '15 * * * *'
  await tenantd.catalog.db.updateTable('plans').set({ backup_schedule: hourly }).where('id', '=', 'pro').execute()
  t.teardown(() => tenantd.catalog.db.updateTable('plans').set({ backup_schedule: null }).where('id', '=', 'pro').execute())
  await scheduler.refresh()
  const status = await scheduler.status()
  t.match(status.schedules, [
    { cron: daily, plans: ['enterprise', 'free'] },
    { cron: hourly, plans: ['pro'] },
  ])
  t.ok(status.schedules.every((s) => s.nextRunAt !== null), 'each schedule has its next run')
  const slotAt = new Date('2026-11-21T05:15:00Z')
  const result = await scheduler.runSlot(hourly, slotAt)
  t.match(result, { tenants: 1, backedUp: 1 })
  t.same((await slotBackups(slotAt)).map((r) => r.slug), ['gamma'], "only the pro plan's tenant")
})

t.test('a backup that keeps failing is retried, then reported; the others are not held up', async (t) => {
  const beta = await tenantd.tenants.get('beta')
  await h.cluster.query(`ALTER ROLE "${beta.role_name}" NOLOGIN`)
  t.teardown(() => h.cluster.query(`ALTER ROLE "${beta.role_name}" LOGIN`))
  const slotAt = new Date('2026-11-22T02:00:00Z')
  const result = await scheduler.runSlot(daily, slotAt)
  t.equal(result?.backedUp, 2)
  t.equal(result?.failed.length, 1)
  t.equal(result?.failed[0]?.tenant, 'beta')
  const rows = await slotBackups(slotAt)
  t.equal(rows.filter((r) => r.slug === 'beta').length, 2, 'two attempts (TENANTD_BACKUP_ATTEMPTS=2)')
  t.ok(rows.filter((r) => r.slug === 'beta').every((r) => r.state === 'failed'))
  const audit = await tenantd.catalog.db.selectFrom('audit_logs').selectAll().where('action', '=', 'backup.scheduled_failed').execute()
  t.equal(audit.length, 1, 'reported once')
  t.match(audit[0]?.details, { attempts: 2, slotAt: slotAt.toISOString() })
  t.notMatch(JSON.stringify(audit[0]?.details), /password/i)
  const slot = await tenantd.catalog.db.selectFrom('backup_slots').selectAll().where('slot_at', '=', slotAt).executeTakeFirstOrThrow()
  t.equal(slot.failed, 1)
})

t.test('a test restore whose rows differ marks the backup failed; the scratch database is dropped', async (t) => {
  const acme = await tenantd.tenants.get('acme')
  const backup = await tenantd.catalog.db
    .selectFrom('backups')
    .selectAll()
    .where('tenant_id', '=', acme.id)
    .where('state', '=', 'verified')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow()
  const good = await scheduler.testRestore(backup)
  t.equal(good.ok, true, 'the untouched backup restores with the recorded row counts')
  // The catalog says the dump holds one more user than it does.
  const counts = { ...backup.row_counts!, 'public.users': (backup.row_counts!['public.users'] ?? 0) + 1 }
  await tenantd.catalog.db.updateTable('backups').set({ row_counts: JSON.stringify(counts) }).where('id', '=', backup.id).execute()
  const lying = await tenantd.catalog.db.selectFrom('backups').selectAll().where('id', '=', backup.id).executeTakeFirstOrThrow()
  const bad = await scheduler.testRestore(lying)
  t.equal(bad.ok, false)
  t.match(bad.reason, /public\.users: \d+ recorded, \d+ restored/)
  const after = await tenantd.catalog.db.selectFrom('backups').selectAll().where('id', '=', backup.id).executeTakeFirstOrThrow()
  t.equal(after.state, 'failed', 'never offered for restore again')
  t.match(after.test_restore_error, /recorded/)
  t.same(await databasesLike(h, '%\\_testrestore\\_%'), [], 'no scratch database left')
  const restore = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/restore', payload: { backupId: backup.id } })
  t.equal(restore.statusCode, 409, 'a failed backup is refused for restore')
})

t.test('tenantctl backup schedule and backup run --all', async (t) => {
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const all = await cli.run(['backup', 'run', '--all'])
  t.equal(all.code, 0, showRun(all))
  t.match(all.stdout, /3 of 3 tenants backed up and verified/)
  const again = await h.asAdmin({ method: 'POST', url: '/api/admin/backups/run-all' })
  // Same minute: refused with what to do; a later minute would start a new fleet backup.
  if (again.statusCode === 409) t.match(again.json().message, /tenantctl backup schedule/)
  else t.equal(again.statusCode, 202, again.body)
  const schedule = await cli.run(['backup', 'schedule'])
  t.equal(schedule.code, 0, showRun(schedule))
  t.match(schedule.stdout, /time zone:\s+UTC/)
  t.match(schedule.stdout, /0 2 \* \* \*\s+enterprise, free, pro/)
  t.match(schedule.stdout, /on-demand/)
  const list = await cli.run(['backup', 'list', 'acme'])
  t.match(list.stdout, /scheduled/)
  t.match(list.stdout, /manual|scheduled/)
  const json = JSON.parse((await cli.run(['backup', 'schedule', '--json'])).stdout)
  t.match(json, { timezone: 'UTC', concurrency: 2, hostConcurrency: 1 })
  const usage = await cli.run(['backup', 'run'])
  t.equal(usage.code, 2, 'no tenant and no --all is a usage error')
  t.match(usage.stderr, /--all/)
  // The fleet backup started above (if this minute allowed it) ends before the harness closes.
})
