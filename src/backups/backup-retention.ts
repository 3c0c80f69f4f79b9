import type { BackupState } from '../catalog/catalog-schema.js'

/** A plan's backup policy (control-migrations/0007): `plans.backup_retention_days`, `backup_keep_*`. */
export interface RetentionPolicy {
  /** Every backup younger than this many days is kept, whatever its state. */
  retentionDays: number
  /** Grandfather-father-son: the newest verified backup of each of the last N UTC days ... */
  keepDaily: number
  /** ... of each of the last N ISO weeks (Monday to Sunday, UTC) ... */
  keepWeekly: number
  /** ... and of each of the last N calendar months (UTC). */
  keepMonthly: number
}

/** What retention needs to know of a backup: a catalog row has these and more. */
export interface RetentionCandidate {
  id: string
  state: BackupState
  created_at: Date | string
}

/** One backup and why it stays or goes, in words an operator reads in `tenantctl backup prune`. */
export interface RetentionDecision<T> {
  backup: T
  reason: string
}

export interface RetentionPlan<T> {
  keep: Array<RetentionDecision<T>>
  prune: Array<RetentionDecision<T>>
}

const dayMs = 86_400_000

type PeriodName = 'day' | 'ISO week' | 'month'

interface Period {
  name: PeriodName
  /** The period a moment falls in, e.g. "2025-06-15", "2025-W24", "2025-06". */
  key(at: Date): string
  /** The keys of the last `count` periods up to and including the one `now` is in. */
  window: Set<string>
}

/**
 * Decides which backups of ONE tenant retention prunes, and why; pure (no clock, no I/O), so
 * the scheduler, the API's dry run and the tests all see the same answer.
 *
 * Kept, in this order of reasons:
 *   - `running` backups: still being written, never touched;
 *   - the tenant's newest verified backup, always: even when it is years old (a canceled
 *     tenant that is no longer backed up keeps its last backup), even when newer ones failed;
 *   - every backup younger than `retentionDays` (any state: a recent failure stays visible);
 *   - grandfather-father-son: the newest verified backup of each of the last `keepDaily` UTC
 *     days, the last `keepWeekly` ISO weeks and the last `keepMonthly` months, counted back
 *     from the period `now` is in. The windows are calendar time, not "the last N periods
 *     that have a backup": a tenant whose backups stopped does not keep its old ones forever.
 * Everything else goes: verified backups not chosen above, `completed` ones never verified
 * and `failed` ones, once older than `retentionDays`. Already `pruned` backups are in neither
 * list.
 *
 * @example
 *   const { prune } = decideRetention(rows, { retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }, new Date())
 *   prune[0].reason   // "older than 30 days; a newer verified backup is kept for its month 2025-02"
 */
export function decideRetention<T extends RetentionCandidate>(backups: readonly T[], policy: RetentionPolicy, now: Date): RetentionPlan<T> {
  const created = (b: T) => new Date(b.created_at)
  const live = backups
    .filter((b) => b.state !== 'pruned')
    // Newest first; the id breaks ties so equal timestamps decide the same way every time.
    .sort((a, b) => created(b).getTime() - created(a).getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  const verified = live.filter((b) => b.state === 'verified')
  const newestVerified = verified[0]
  const cutoff = now.getTime() - policy.retentionDays * dayMs
  const periods = gfsPeriods(policy, now)

  // The newest verified backup of every period inside its window: verified is newest first,
  // so the first one seen for a key is the one kept.
  const chosen = new Map<string, string>()
  for (const period of periods) {
    const seen = new Set<string>()
    for (const backup of verified) {
      const key = period.key(created(backup))
      if (!period.window.has(key) || seen.has(key)) continue
      seen.add(key)
      if (!chosen.has(backup.id)) chosen.set(backup.id, `the newest verified backup of its ${period.name} ${key}`)
    }
  }

  const plan: RetentionPlan<T> = { keep: [], prune: [] }
  for (const backup of live) {
    const at = created(backup)
    if (backup.state === 'running') plan.keep.push({ backup, reason: 'still being written' })
    else if (backup === newestVerified) plan.keep.push({ backup, reason: 'the newest verified backup of the tenant' })
    else if (at.getTime() > cutoff) plan.keep.push({ backup, reason: `younger than ${policy.retentionDays} days` })
    else if (chosen.has(backup.id)) plan.keep.push({ backup, reason: chosen.get(backup.id)! })
    else plan.prune.push({ backup, reason: pruneReason(backup, at, policy, periods) })
  }
  return plan
}

function pruneReason(backup: RetentionCandidate, at: Date, policy: RetentionPolicy, periods: Period[]): string {
  const old = `older than ${policy.retentionDays} days`
  if (backup.state === 'failed') return `failed, and ${old}`
  if (backup.state === 'completed') return `${old} and never verified`
  // A verified backup inside a kept period lost to a newer one of that period; name the finest.
  const covering = periods.find((period) => period.window.has(period.key(at)))
  if (covering) return `${old}; a newer verified backup is kept for its ${covering.name} ${covering.key(at)}`
  const windows = [
    [policy.keepDaily, 'days'],
    [policy.keepWeekly, 'ISO weeks'],
    [policy.keepMonthly, 'months'],
  ]
    .filter(([count]) => Number(count) > 0)
    .map(([count, unit]) => `${count} ${unit}`)
  if (!windows.length) return `${old}, and the plan keeps no daily, weekly or monthly backups`
  return `${old} and before the last ${windows.length > 1 ? `${windows.slice(0, -1).join(', ')} and ${windows.at(-1)}` : windows[0]}`
}

function gfsPeriods(policy: RetentionPolicy, now: Date): Period[] {
  const window = (count: number, key: (at: Date) => string, step: (back: number) => Date) => {
    const keys = new Set<string>()
    for (let back = 0; back < count; back++) keys.add(key(step(back)))
    return keys
  }
  const daysBack = (days: number) => new Date(now.getTime() - days * dayMs)
  return [
    { name: 'day', key: utcDay, window: window(policy.keepDaily, utcDay, daysBack) },
    { name: 'ISO week', key: isoWeek, window: window(policy.keepWeekly, isoWeek, (back) => daysBack(7 * back)) },
    {
      name: 'month',
      key: utcMonth,
      // Day 1 of each month: stepping back by 30 days would skip or repeat months.
      window: window(policy.keepMonthly, utcMonth, (back) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1))),
    },
  ]
}

/** "2025-06-15" */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10)
}

/** "2025-06" */
export function utcMonth(at: Date): string {
  return at.toISOString().slice(0, 7)
}

/**
 * ISO 8601 week, "2025-W24": weeks start on Monday and belong to the year of their Thursday,
 * so 2024-12-30 is in "2025-W01" and 2027-01-01 in "2026-W53".
 */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
  const weekday = day.getUTCDay() || 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday)
  const year = day.getUTCFullYear()
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / dayMs + 1) / 7)
  return `${year}-W${String(week).padStart(2, '0')}`
}
