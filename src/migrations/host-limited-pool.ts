/** What a host-limited fan-out needs to know about one item. */
export interface HostLimits {
  /** At most this many items run at once, over all hosts. */
  concurrency: number
  /** At most this many items of one host run at once (its connection budget). */
  hostBudget(hostId: string): number
}

/**
 * Runs `work` for every item, at most `limits.concurrency` at once and at most
 * `limits.hostBudget(host)` at once per db host, so a fleet-wide fan-out never takes more
 * connections from one PostgreSQL server than that server was given for it. Items start in
 * their order; an item whose host is full waits while items of other hosts go ahead.
 * `work` must not throw (each item records its own failure); if it does, the pool stops
 * starting new items and rejects once the running ones ended.
 *
 * @example
 *   await runHostLimited(tenants, (t) => t.host_id, { concurrency: 8, hostBudget: (id) => budgets.get(id) ?? 1 }, migrateOne)
 */
export function runHostLimited<T>(items: readonly T[], hostOf: (item: T) => string, limits: HostLimits, work: (item: T) => Promise<void>): Promise<void> {
  const concurrency = Math.max(1, Math.floor(limits.concurrency))
  const waiting = [...items]
  const perHost = new Map<string, number>()
  let running = 0
  let failure: { error: unknown } | undefined

  return new Promise<void>((resolve, reject) => {
    const settle = () => {
      if (running > 0) return
      if (failure) reject(failure.error)
      else if (waiting.length === 0) resolve()
    }
    const pump = () => {
      while (!failure && running < concurrency) {
        const index = waiting.findIndex((item) => {
          const host = hostOf(item)
          return (perHost.get(host) ?? 0) < Math.max(1, limits.hostBudget(host))
        })
        if (index === -1) break
        const [item] = waiting.splice(index, 1) as [T]
        const host = hostOf(item)
        perHost.set(host, (perHost.get(host) ?? 0) + 1)
        running++
        void Promise.resolve()
          .then(() => work(item))
          .catch((error: unknown) => {
            failure ??= { error }
          })
          .finally(() => {
            running--
            perHost.set(host, (perHost.get(host) ?? 1) - 1)
            pump()
            settle()
          })
      }
      settle()
    }
    pump()
  })
}
