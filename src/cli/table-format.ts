/** One column of a table: its header and how a row shows in it. */
export interface Column<T> {
  header: string
  value: (row: T) => unknown
  /** Right-align (numbers). */
  alignRight?: boolean
}

/**
 * Renders rows as a plain table with a header line and columns padded to align.
 * Empty values show as "-". The last column is not padded, so lines have no trailing blanks.
 *
 * @example
 *   formatTable([{ slug: 'acme', plan: 'pro' }], [
 *     { header: 'SLUG', value: (t) => t.slug },
 *     { header: 'PLAN', value: (t) => t.plan },
 *   ])
 *   // "SLUG  PLAN\nacme  pro\n"
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))))
  const widths = columns.map((column, i) =>
    Math.max(width(column.header), ...cells.map((line) => width(line[i] ?? ''))),
  )
  const render = (line: readonly string[]) =>
    line
      .map((text, i) => {
        const last = i === line.length - 1
        const pad = ' '.repeat((widths[i] ?? 0) - width(text))
        if (columns[i]?.alignRight) return pad + text
        return last ? text : text + pad
      })
      .join('  ')
      .trimEnd()
  return [columns.map((c) => c.header), ...cells].map(render).join('\n') + '\n'
}

/**
 * Renders `key: value` lines with the values aligned, for one record (`tenantctl show`).
 *
 * @example
 *   formatKeyValues([['Slug', 'acme'], ['Status', 'active']])
 *   // "Slug:    acme\nStatus:  active\n"
 */
export function formatKeyValues(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const keyWidth = Math.max(0, ...pairs.map(([key]) => width(key))) + 1
  return pairs.map(([key, value]) => `${(key + ':').padEnd(keyWidth)}  ${cellText(value)}`).join('\n') + '\n'
}

/** A cell's text: "-" for nothing, JSON for objects, one line always. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value).replace(/\s*\n\s*/g, ' ')
}

/** Formats an ISO timestamp as "YYYY-MM-DD HH:MM" in UTC; passes anything else through. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toISOString().slice(0, 16).replace('T', ' ')
}

/** Display width in code points (good enough for slugs, names and "✓"). */
function width(text: string): number {
  return [...text].length
}

/** 1536 → "1.5 KiB"; null → "-". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
