import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { decideRetention, isoWeek, type RetentionCandidate, type RetentionPolicy } from '../../src/backups/backup-retention.js'
import type { BackupState } from '../../src/catalog/catalog-schema.js'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { filesUnder } from './backup-test-helpers.js'

const dayMs = 86_400_000

/** Every date from `first` to `last` (inclusive), "YYYY-MM-DD". */
function datesBetween(first: string, last: string): string[] {
  const dates: string[] = []
  for (let at = Date.parse(`${first}T00:00:00Z`); at <= Date.parse(`${last}T00:00:00Z`); at += dayMs) dates.push(new Date(at).toISOString().slice(0, 10))
  return dates
}

/** One synthetic backup a day at 02:00 UTC, id "b-<date>". */
function dailyBackups(dates: string[], states: Record<string, BackupState> = {}): RetentionCandidate[] {
  return dates.map((date) => ({ id: `b-${date}`, state: states[date] ?? 'verified', created_at: new Date(`${date}T02:00:00Z`) }))
}

const dateOf = (b: RetentionCandidate) => b.id.slice(2)
const keptDates = (backups: RetentionCandidate[], policy: RetentionPolicy, now: Date) =>
  decideRetention(backups, policy, now)
    .keep.map((d) => dateOf(d.backup))
    .sort()

t.test('retention over a simulated year of daily backups', async (t) => {
  // 2024-06-16 .. 2025-06-15: 365 days; "now" is the morning of the last one.
  const year = datesBetween('2024-06-16', '2025-06-15')
  t.equal(year.length, 365)
  const now = new Date('2025-06-15T06:00:00Z')
  const failed = ['2024-07-04', '2024-09-30', '2024-12-25', '2025-01-30', '2025-01-31', '2025-03-31', '2025-06-01', '2025-06-10']
  const backups = dailyBackups(year, Object.fromEntries(failed.map((d) => [d, 'failed' as const])))

  t.test('30 days / 7 daily / 4 weekly / 12 monthly', async (t) => {
    const policy = { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }
    const plan = decideRetention(backups, policy, now)
    // Younger than 30 days (after 2025-05-16T06:00): 05-17 .. 06-15, failed ones too. The 7
    // days and 4 ISO weeks all fall inside them. Then the newest verified backup of each of
    // the last 12 months, June 2025 back to July 2024; a failed month end gives way to the
    // day before. June 2024 is outside the 12 months: none of it is kept.
    const expected = [
      '2024-07-31', '2024-08-31', '2024-09-29', '2024-10-31', '2024-11-30', '2024-12-31',
      '2025-01-29', '2025-02-28', '2025-03-30', '2025-04-30',
      ...datesBetween('2025-05-17', '2025-06-15'),
    ]
    t.same(keptDates(backups, policy, now), expected)
    t.equal(plan.keep.length, 40)
    t.equal(plan.prune.length, 325)
    t.equal(plan.keep.length + plan.prune.length, 365, 'every backup decided once')

    const reasons = new Map([...plan.keep, ...plan.prune].map((d) => [dateOf(d.backup), d.reason]))
    t.equal(reasons.get('2025-06-15'), 'the newest verified backup of the tenant')
    t.equal(reasons.get('2025-06-10'), 'younger than 30 days', 'a recent failure stays visible')
    t.equal(reasons.get('2025-03-30'), 'the newest verified backup of its month 2025-03')
    t.equal(reasons.get('2025-03-31'), 'failed, and older than 30 days')
    t.equal(reasons.get('2025-02-27'), 'older than 30 days; a newer verified backup is kept for its month 2025-02')
    t.equal(reasons.get('2024-06-20'), 'older than 30 days and before the last 7 days, 4 ISO weeks and 12 months')
  })

  t.test('3 days / 7 daily / 4 weekly / 12 monthly: the daily and weekly windows count', async (t) => {
    const policy = { retentionDays: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }
    // Younger than 3 days: 06-13 .. 06-15. Daily, 06-09 .. 06-15: all but the failed 06-10.
    // ISO weeks: W24 (06-09..06-15) 06-15, W23 (06-02..06-08) 06-08, W22 (05-26..06-01,
    // 06-01 failed) 05-31, W21 (05-19..05-25) 05-25. Months as above, May being 05-31.
    const expected = [
      '2024-07-31', '2024-08-31', '2024-09-29', '2024-10-31', '2024-11-30', '2024-12-31',
      '2025-01-29', '2025-02-28', '2025-03-30', '2025-04-30',
      '2025-05-25', '2025-05-31', '2025-06-08',
      '2025-06-09', '2025-06-11', '2025-06-12', '2025-06-13', '2025-06-14', '2025-06-15',
    ]
    t.same(keptDates(backups, policy, now), expected)
    const plan = decideRetention(backups, policy, now)
    const reasons = new Map([...plan.keep, ...plan.prune].map((d) => [dateOf(d.backup), d.reason]))
    t.equal(reasons.get('2025-06-10'), 'failed, and older than 3 days')
    t.equal(reasons.get('2025-06-11'), 'the newest verified backup of its day 2025-06-11')
    t.equal(reasons.get('2025-05-25'), 'the newest verified backup of its ISO week 2025-W21')
    t.equal(reasons.get('2025-06-05'), 'older than 3 days; a newer verified backup is kept for its ISO week 2025-W23')
  })

  t.test('every day of the year: the newest verified backup is kept, and a second pass prunes nothing', async (t) => {
    const policies = [
      { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      { retentionDays: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
    ]
    let checked = 0
    for (const policy of policies) {
      for (let i = 0; i < year.length; i++) {
        const today = new Date(`${year[i]}T23:00:00Z`)
        const upToToday = backups.slice(0, i + 1)
        const newestVerified = upToToday.filter((b) => b.state === 'verified').at(-1)!
        const plan = decideRetention(upToToday, policy, today)
        if (plan.prune.some((d) => d.backup === newestVerified)) t.fail(`${year[i]}: the newest verified backup was pruned`)
        // What a second replica would see after the first pruned: the same kept set.
        const again = decideRetention(plan.keep.map((d) => d.backup), policy, today)
        if (again.prune.length) t.fail(`${year[i]}: pruning what was kept found more to prune`)
        checked++
      }
    }
    t.equal(checked, 730)
  })
})

t.test('a tenant whose backups are all old keeps only its newest verified one', async (t) => {
  const now = new Date('2025-06-15T06:00:00Z')
  const backups: RetentionCandidate[] = [
    ...dailyBackups(datesBetween('2023-03-01', '2023-03-10')),
    { id: 'b-2023-02-01', state: 'running', created_at: '2023-02-01T02:00:00Z' },
    { id: 'b-2023-01-01', state: 'pruned', created_at: '2023-01-01T02:00:00Z' },
  ]
  const plan = decideRetention(backups, { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }, now)
  t.same(
    plan.keep.map((d) => [dateOf(d.backup), d.reason]),
    [
      ['2023-03-10', 'the newest verified backup of the tenant'],
      ['2023-02-01', 'still being written'],
    ]
  )
  t.same(plan.prune.map((d) => dateOf(d.backup)).sort(), datesBetween('2023-03-01', '2023-03-09'))
  t.notOk([...plan.keep, ...plan.prune].some((d) => d.backup.state === 'pruned'), 'an already pruned backup is neither kept nor pruned again')
})

t.test('a tenant whose newest backups failed or were never verified keeps its newest verified one', async (t) => {
  const now = new Date('2025-06-15T06:00:00Z')
  const backups = dailyBackups(datesBetween('2024-01-01', '2024-01-07'), { '2024-01-06': 'failed', '2024-01-07': 'completed' })
  const plan = decideRetention(backups, { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }, now)
  t.same(plan.keep.map((d) => dateOf(d.backup)), ['2024-01-05'])
  const reasons = new Map(plan.prune.map((d) => [dateOf(d.backup), d.reason]))
  t.equal(reasons.get('2024-01-07'), 'older than 30 days and never verified')
  t.equal(reasons.get('2024-01-06'), 'failed, and older than 30 days')
  t.equal(plan.prune.length, 6)

  const noneVerified = dailyBackups(['2024-01-01', '2024-01-02'], { '2024-01-01': 'failed', '2024-01-02': 'failed' })
  t.equal(decideRetention(noneVerified, { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }, now).prune.length, 2, 'old failures go when nothing is verified')
})

t.test('ISO weeks belong to the year of their Thursday', async (t) => {
  t.equal(isoWeek(new Date('2025-06-15T23:59:59Z')), '2025-W24', 'a Sunday closes its week')
  t.equal(isoWeek(new Date('2025-06-16T00:00:00Z')), '2025-W25', 'Monday opens the next')
  t.equal(isoWeek(new Date('2024-12-30T12:00:00Z')), '2025-W01')
  t.equal(isoWeek(new Date('2027-01-01T12:00:00Z')), '2026-W53')
})

// ---- Through tenantd: real backups, files and catalog rows. ----

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: `file://${backupDir}` } })
const catalog = h.tenantd.catalog.db
const globex = await h.provision({ name: 'Globex', slug: 'globex', plan: 'pro' })
const initech = await h.provision({ name: 'Initech', slug: 'initech', plan: 'free' })
const exists = (file: string) => access(file).then(() => true, () => false)
const backupRow = (id: string) => catalog.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
const ago = (days: number) => new Date(Date.now() - days * dayMs)

/** A catalog row with no file behind it (a backup whose write failed). */
async function insertBackup(tenant: typeof globex, fields: { state: BackupState; createdAt: Date; storageKey: string }) {
  const row = await catalog
    .insertInto('backups')
    .values({
      tenant_id: tenant.id,
      host_id: tenant.hostId,
      database_name: tenant.database,
      state: fields.state,
      storage_target: `file://${backupDir}`,
      storage_key: fields.storageKey,
      tenantd_version: '0.1.0',
      error: fields.state === 'failed' ? 'dumpDatabase: pg_dump failed' : null,
      created_at: fields.createdAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

t.test('prune through the API and tenantctl: dry run changes nothing, then files go and records are marked', async (t) => {
  const taken: Array<{ id: string; storageKey: string; sizeBytes: number }> = []
  for (let i = 0; i < 3; i++) {
    const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/globex/backups?wait=true' })
    t.equal(res.statusCode, 201, res.body)
    taken.push(res.json().backup)
  }
  const [oldest, middle, newest] = taken as [(typeof taken)[0], (typeof taken)[0], (typeof taken)[0]]
  // Aged: 100, 70 and 40 days; a failed backup without a file in between (50 days).
  for (const [backup, days] of [[oldest, 100], [middle, 70], [newest, 40]] as const) {
    await catalog.updateTable('backups').set({ created_at: ago(days) }).where('id', '=', backup.id).execute()
  }
  const failedId = await insertBackup(globex, { state: 'failed', createdAt: ago(50), storageKey: `tenants/${globex.id}/never-written.tdbk` })
  // Pro: 30 days and no GFS; free keeps the defaults.
  await catalog.updateTable('plans').set({ backup_retention_days: 30, backup_keep_daily: 0, backup_keep_weekly: 0, backup_keep_monthly: 0 }).where('id', '=', 'pro').execute()
  const initechFailed = await insertBackup(initech, { state: 'failed', createdAt: ago(45), storageKey: `tenants/${initech.id}/never-written.tdbk` })
  const files = (await filesUnder(backupDir)).sort()
  t.equal(files.length, 3)

  const dry = await h.asAdmin({ method: 'POST', url: '/api/admin/backups/prune', payload: { tenant: 'globex', dryRun: true } })
  t.equal(dry.statusCode, 200, dry.body)
  const plan = dry.json()
  t.equal(plan.dryRun, true)
  t.same(plan.items.map((i: { backupId: string }) => i.backupId), [failedId, middle.id, oldest.id], 'newest first; the newest verified backup is not listed')
  t.match(plan.items[0], { tenantId: globex.id, tenantSlug: 'globex', state: 'failed', sizeBytes: null, reason: 'failed, and older than 30 days' })
  t.match(plan.items[1], { state: 'verified', sizeBytes: middle.sizeBytes, reason: 'older than 30 days, and the plan keeps no daily, weekly or monthly backups' })
  t.equal(plan.prunedCount, 3)
  t.equal(plan.freedBytes, oldest.sizeBytes + middle.sizeBytes)
  t.same((await filesUnder(backupDir)).sort(), files, 'dry run: every file is still there')
  for (const id of [oldest.id, middle.id, newest.id]) t.equal((await backupRow(id)).state, 'verified', 'dry run: states unchanged')
  t.equal((await backupRow(failedId)).state, 'failed')

  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const shown = await cli.run(['backup', 'prune', 'globex', '--dry-run'])
  t.equal(shown.code, 0, showRun(shown))
  t.match(shown.stdout, /^BACKUP\s+TENANT\s+CREATED\s+STATE\s+SIZE\s+WHY$/m)
  t.match(shown.stdout, new RegExp(`^${oldest.id}\\s+globex\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+verified\\s+[\\d.]+ (B|KiB|MiB)\\s+older than 30 days`, 'm'))
  t.match(shown.stdout, new RegExp(`^${failedId}\\s+globex\\s+.*failed\\s+-\\s+failed, and older than 30 days$`, 'm'))
  t.notMatch(shown.stdout, newest.id)
  t.match(shown.stdout.trimEnd().split('\n').at(-1), /^would prune 3 backups \([\d.]+ (B|KiB|MiB)\)$/)
  const asJson = await cli.run(['backup', 'prune', 'globex', '--dry-run', '--json'])
  t.equal(asJson.code, 0, showRun(asJson))
  t.equal(JSON.parse(asJson.stdout).prunedCount, 3)
  t.equal((await filesUnder(backupDir)).length, 3, 'tenantctl dry run deleted nothing')

  // Two replicas pruning at once: each backup is pruned by exactly one of them.
  const runs = await Promise.all([1, 2].map(() => h.asAdmin({ method: 'POST', url: '/api/admin/backups/prune', payload: { tenant: globex.id } })))
  for (const run of runs) t.equal(run.statusCode, 200, run.body)
  const pruned = runs.flatMap((run) => run.json().items.map((i: { backupId: string }) => i.backupId)).sort()
  t.same(pruned, [failedId, middle.id, oldest.id].sort(), 'pruned once each, no more')
  t.equal(runs.reduce((n, run) => n + run.json().prunedCount, 0), 3)
  t.equal(runs.reduce((n, run) => n + run.json().freedBytes, 0), oldest.sizeBytes + middle.sizeBytes)

  t.same(await filesUnder(backupDir), [path.join(backupDir, newest.storageKey)], 'only the newest verified backup is left on disk')
  for (const id of [oldest.id, middle.id, failedId]) {
    const row = await backupRow(id)
    t.equal(row.state, 'pruned')
    t.ok(row.pruned_at instanceof Date, 'pruned_at is set once the file is gone')
  }
  const kept = await backupRow(newest.id)
  t.equal(kept.state, 'verified')
  t.equal(kept.pruned_at, null)
  const shownPruned = await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/globex/backups/${oldest.id}` })
  t.equal(shownPruned.json().state, 'pruned', 'the API shows the record as pruned')
  t.equal((await backupRow(initechFailed)).state, 'failed', 'another tenant is left alone when one is named')

  const again = await cli.run(['backup', 'prune', 'globex'])
  t.equal(again.code, 0, showRun(again))
  t.equal(again.stdout.trim(), 'pruned 0 backups, freed 0 B', 'nothing more to prune')

  const audit = await catalog.selectFrom('audit_logs').selectAll().where('action', '=', 'backup.pruned').where('tenant_id', '=', globex.id).orderBy('id').execute()
  t.equal(audit.length, 3, 'one audit entry per real run, none for dry runs')
  t.same(
    audit.map((a) => (a.details as { prunedCount: number }).prunedCount).sort(),
    [0, 0, 3]
  )
  t.match(audit.find((a) => (a.details as { prunedCount: number }).prunedCount === 3), { actor_type: 'operator', actor_email: h.superAdmin.email, target: 'globex', details: { freedBytes: oldest.sizeBytes + middle.sizeBytes } })
})

t.test("the scheduler's prune({}) covers every tenant and finishes a delete an earlier run did not", async (t) => {
  // A backup claimed by a run that crashed before deleting its file: pruned, no pruned_at.
  const leftoverKey = `tenants/${initech.id}/leftover.tdbk`
  await mkdir(path.join(backupDir, 'tenants', initech.id), { recursive: true })
  await writeFile(path.join(backupDir, leftoverKey), Buffer.alloc(2048, 1))
  const leftover = await insertBackup(initech, { state: 'pruned', createdAt: ago(90), storageKey: leftoverKey })

  const result = await h.tenantd.backupPruner.prune({})
  t.equal(result.dryRun, false)
  t.same(result.items.map((i) => [i.tenantSlug, i.state, i.reason]), [['initech', 'failed', 'failed, and older than 30 days']], 'the free plan keeps its defaults; globex has nothing more')
  t.notOk(await exists(path.join(backupDir, leftoverKey)), 'the leftover file is deleted')
  t.ok((await backupRow(leftover)).pruned_at instanceof Date)
  const entry = await catalog.selectFrom('audit_logs').selectAll().where('action', '=', 'backup.pruned').where('tenant_id', 'is', null).executeTakeFirstOrThrow()
  t.match(entry, { actor_type: 'system', details: { prunedCount: 1, tenants: 1, filesRetried: 1, fileErrors: 0 } })
})

t.test('bad input is refused with the reason; only super-admins prune', async (t) => {
  const post = (payload: unknown, headers?: Record<string, string>) =>
    headers ? h.app.inject({ method: 'POST', url: '/api/admin/backups/prune', payload: payload as object, headers }) : h.asAdmin({ method: 'POST', url: '/api/admin/backups/prune', payload: payload as object })
  for (const [payload, message] of [
    [{ dryRun: 'maybe' }, /body\.dryRun must be boolean/],
    [{ tenant: '' }, /body\.tenant must NOT have fewer than 1 characters/],
    [{ tenants: 'globex' }, /must NOT have additional properties \(tenants\)/],
  ] as const) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, res.body)
    t.equal(res.json().error, 'ValidationError')
    t.match(res.json().message, message)
  }
  const unknown = await post({ tenant: 'nope', dryRun: true })
  t.equal(unknown.statusCode, 404, unknown.body)
  t.equal(unknown.json().error, 'TenantNotFound')

  t.equal((await h.app.inject({ method: 'POST', url: '/api/admin/backups/prune', payload: {} })).statusCode, 401, 'no token')
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'ops@globex.test', password: 'globex-ops-password', role: 'tenant_admin', tenant: 'globex' } })
  t.equal(created.statusCode, 201, created.body)
  const { accessToken } = await h.login('ops@globex.test', 'globex-ops-password')
  const refused = await post({ tenant: 'globex', dryRun: true }, { authorization: `Bearer ${accessToken}` })
  t.equal(refused.statusCode, 403, refused.body)
  t.equal(refused.json().error, 'Forbidden')
})
