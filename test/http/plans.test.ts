import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'

// Plans: list with limits and backup policy, change the policy (API and tenantctl), a new
// schedule picked up by the backup scheduler, bad input refused with what to give.

const h = await startHarness(t)
await h.provision({ name: 'Acme', slug: 'acme', plan: 'pro' })

t.test('list and change a plan', async (t) => {
  const list = await h.asAdmin({ method: 'GET', url: '/api/admin/plans' })
  t.equal(list.statusCode, 200, list.body)
  const pro = list.json().items.find((p: { id: string }) => p.id === 'pro')
  t.match(pro, { id: 'pro', tenantCount: 1, maxConnections: 20, backup: { schedule: null, retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 } })

  const patched = await h.asAdmin({ method: 'PATCH', url: '/api/admin/plans/pro', payload: { backupSchedule: '30 3 * * *', backupKeepDaily: 14, maxUsers: null } })
  t.equal(patched.statusCode, 200, patched.body)
  t.match(patched.json(), { maxUsers: null, backup: { schedule: '30 3 * * *', keepDaily: 14 } })
  const status = await h.tenantd.backupScheduler.status()
  t.match(status.schedules, [{ cron: '30 3 * * *', plans: ['pro'] }], 'the scheduler took the new schedule at once (the default is off in this harness)')

  const back = await h.asAdmin({ method: 'PATCH', url: '/api/admin/plans/pro', payload: { backupSchedule: null } })
  t.equal(back.json().backup.schedule, null)
  t.same((await h.tenantd.backupScheduler.status()).schedules, [], 'no schedule left')
})

t.test('bad input', async (t) => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['/api/admin/plans/pro', { backupSchedule: 'every night' }, 400, /cron expression/],
    ['/api/admin/plans/pro', { backupSchedule: '0 0 3 * * *' }, 400, /five fields/],
    ['/api/admin/plans/pro', { backupKeepDaily: -1 }, 400, /backupKeepDaily/],
    ['/api/admin/plans/pro', { maxConnections: 99 }, 400, /maxConnections/],
    ['/api/admin/plans/pro', {}, 400, /./],
    ['/api/admin/plans/gold', { name: 'Gold' }, 404, /tenantctl plans/],
  ]
  for (const [url, payload, status, message] of cases) {
    const res = await h.asAdmin({ method: 'PATCH', url, payload: payload as object })
    t.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`)
    t.match(res.json().message, message)
  }
  t.equal((await h.app.inject({ method: 'GET', url: '/api/admin/plans' })).statusCode, 401)
})

t.test('tenantctl plans', async (t) => {
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const update = await cli.run(['plans', 'update', 'free', '--backup-schedule', '0 4 * * 0', '--retention-days', '7', '--keep-weekly', '8'])
  t.equal(update.code, 0, showRun(update))
  t.match(update.stdout, /plan free: backups 0 4 \* \* 0, kept 7 days then 7 daily \/ 8 weekly \/ 12 monthly/)
  const list = await cli.run(['plans'])
  t.equal(list.code, 0, showRun(list))
  t.match(list.stdout, /PLAN\s+NAME\s+TENANTS/)
  t.match(list.stdout, /free\s+Free\s+0\s+5\s+5\s+500\s+0 4 \* \* 0\s+7d \+ 7\/8\/12/)
  t.match(list.stdout, /pro\s+Pro\s+1/)
  const none = await cli.run(['plans', 'update', 'free'])
  t.equal(none.code, 2, 'no change given')
  t.match(none.stderr, /at least one change/)
  const bad = await cli.run(['plans', 'update', 'free', '--backup-schedule', 'nightly'])
  t.equal(bad.code, 1, showRun(bad))
  t.match(bad.stderr, /cron expression/)
})
