import cron from 'node-cron'

/**
 * A cron expression tenantd accepts for backups: node-cron's syntax with the classic five
 * fields (minute hour day-of-month month day-of-week). No seconds field: slots are minutes.
 *
 * @example
 *   validCron('0 2 * * *')      // true: daily at 02:00
 *   validCron('* * * * * *')    // false: six fields
 */
export function validCron(expression: string): boolean {
  return expression.trim().split(/\s+/).length === 5 && cron.validate(expression)
}

/** The start of the minute a date falls in: a slot's identity, whatever the timer's jitter. */
export function minuteOf(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000)
}

/**
 * The newest minute at or before `now`, and no older than `maxHours`, that the schedule
 * matches; undefined when there is none (a weekly schedule and a window of a day).
 *
 * @example
 *   latestSlot((d) => d.getUTCHours() === 2 && d.getUTCMinutes() === 0, new Date('2026-12-02T10:00Z'), 24)
 *   // 2026-12-02T02:00:00.000Z
 */
export function latestSlot(matches: (date: Date) => boolean, now: Date, maxHours: number): Date | undefined {
  const newest = minuteOf(now).getTime()
  for (let minutes = 0; minutes <= maxHours * 60; minutes++) {
    const candidate = new Date(newest - minutes * 60_000)
    if (matches(candidate)) return candidate
  }
  return undefined
}
