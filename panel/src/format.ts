const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** "12 Mar 2026, 14:03" in the reader's locale; "—" for nothing. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date)
}

/** 1536 -> "1.5 KB"; "—" for nothing. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** "provision_tenant" or "createDatabase" -> "provision tenant", "create database". */
export function humanize(word: string | null | undefined): string {
  if (!word) return '—'
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase()
}

/** A tenant user's role as people say it: "Admin", "Member". */
export function roleLabel(role: string): string {
  const words = humanize(role)
  return words.charAt(0).toUpperCase() + words.slice(1)
}
