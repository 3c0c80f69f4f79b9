import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { runHostLimited } from '../../src/migrations/host-limited-pool.js'

// The fan-out never exceeds the global concurrency nor a host's connection budget, and a
// full host does not hold back the tenants of other hosts.

t.test('bounded globally and per host', async (t) => {
  const items = Array.from({ length: 30 }, (_, i) => ({ id: i, host: i % 3 === 0 ? 'small' : 'big' }))
  let running = 0
  let most = 0
  const perHost = new Map<string, number>()
  const mostPerHost = new Map<string, number>()
  const done: number[] = []
  await runHostLimited(items, (i) => i.host, { concurrency: 5, hostBudget: (h) => (h === 'small' ? 1 : 10) }, async (item) => {
    running++
    perHost.set(item.host, (perHost.get(item.host) ?? 0) + 1)
    most = Math.max(most, running)
    mostPerHost.set(item.host, Math.max(mostPerHost.get(item.host) ?? 0, perHost.get(item.host)!))
    await sleep(5)
    running--
    perHost.set(item.host, perHost.get(item.host)! - 1)
    done.push(item.id)
  })
  t.equal(done.length, 30, 'every item ran')
  t.equal(most, 5, 'at most the global concurrency, and it is used')
  t.equal(mostPerHost.get('small'), 1, 'the small host never had more than its budget')
})

t.test('an empty list resolves; a throwing worker rejects after the running ones end', async (t) => {
  await runHostLimited([], () => 'h', { concurrency: 4, hostBudget: () => 1 }, async () => {})
  const started: number[] = []
  await t.rejects(
    runHostLimited([1, 2, 3, 4], () => 'h', { concurrency: 2, hostBudget: () => 2 }, async (n) => {
      started.push(n)
      await sleep(5)
      if (n === 1) throw new Error('boom')
    }),
    /boom/
  )
  t.same(started, [1, 2], 'no new item starts after a failure')
})
