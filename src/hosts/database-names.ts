import { randomBytes } from 'node:crypto'

/** PostgreSQL's limit on a database name, in bytes (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63

/**
 * A name for a database an operation sets aside or creates beside the tenant's own:
 * `<db>_<label>_<yyyymmddhhmmss>_<tag>`, within PostgreSQL's 63-byte limit (the tenant's name
 * is shortened, never the suffix). The time is for people reading `\l`; the random tag makes
 * the name the operation's own: two operations of one tenant within the same second (a
 * restore right after another) must never share a name, since a swap and its undo read
 * where they stand from which names exist on the host.
 *
 * Pass one `tag` for names that belong together (a restore's restored and kept databases).
 *
 * @example
 *   stampedDatabaseName('tenant_acme', 'pre_restore', new Date())   // tenant_acme_pre_restore_20261207165038_3f9a1c
 */
export function stampedDatabaseName(database: string, label: string, at: Date, tag: string = newNameTag()): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  const suffix = `_${label}_${stamp}_${tag}`
  let base = database
  while (Buffer.byteLength(base + suffix) > MAX_NAME_BYTES) base = base.slice(0, -1)
  return base + suffix
}

/** A fresh tag for stampedDatabaseName (6 hex digits). */
export function newNameTag(): string {
  return randomBytes(3).toString('hex')
}
