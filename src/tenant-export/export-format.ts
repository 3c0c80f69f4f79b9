/**
 * The tenantd export document (version 1): one JSON object, written and read as a stream.
 *
 * ```
 * {"format":"tenantd-export","version":1,"exportedAt":"2025-01-01T00:00:00.000Z",
 *  "source":{"tenantId":"…","tenantd":"0.1.0","postgres":"15.8"},
 *  "tenant":{"slug":"acme","subdomain":"acme","name":"Acme","contactEmail":"…","plan":"pro","status":"active","modules":["price-basket"]},
 *  "migrations":[{"scope":"base","name":"0001_base.sql","checksum":"…"}],
 *  "tables":[
 *  {"name":"public.users","columns":["id","email",…],"types":["uuid","text",…],"rows":[
 *  ["5b0e…","a@acme.test",…],
 *  …]},
 *  …],
 *  "sequences":[{"name":"public.notes_id_seq","lastValue":"42","isCalled":true}],
 *  "trailer":{"rows":{"public.users":3,…},"sha256":"…"}}
 * ```
 *
 * - Tables come in foreign-key dependency order (referenced tables first), so loading them
 *   in document order never violates a constraint. `tenant_migrations` is not a table of the
 *   document: it is the `migrations` member, and an import gets its own from provisioning.
 * - Every value is PostgreSQL's text form of the column (or null), whatever its type: numerics
 *   keep every digit, bigints every bit, jsonb and arrays their exact text. The import casts
 *   it back with the column's own type.
 * - No secret of tenantd's: never the role password, sealed secrets or operator tokens. The
 *   tenant's own users keep their argon2 password hashes (tenant data, needed to log in).
 * - The trailer closes the document with the rows of every table and the SHA-256 of the
 *   content: every byte from the opening `{` up to the end of the `sequences` value, leaving
 *   out whitespace outside strings. So a document cut anywhere is refused, and one whose line
 *   breaks were stripped on the way (`curl -d @file`) or re-indented is still accepted. The
 *   writer emits no whitespace except the line breaks it puts before each table and row.
 */
export const EXPORT_FORMAT = 'tenantd-export'
export const EXPORT_VERSION = 1

/** The tenant as the export carries it: public fields only. */
export interface ExportedTenant {
  slug: string
  subdomain: string
  name: string
  contactEmail: string
  plan: string
  status: string
  modules: string[]
}

export interface ExportedMigration {
  scope: string
  name: string
  checksum: string
}

export interface ExportedSequence {
  /** "public.<name>" */
  name: string
  /** bigint as text */
  lastValue: string
  isCalled: boolean
}

export interface ExportTrailer {
  /** Rows per table, "public.<name>" → count. */
  rows: Record<string, number>
  /** Hex SHA-256 of the content (see above). */
  sha256: string
}

/** Table names in the document: the public schema only. */
export const TABLE_NAME = /^public\.([A-Za-z_][A-Za-z0-9_$]{0,62})$/
/** Column names the import accepts (matched against the new database's own columns). */
export const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_$ -]{0,62}$/

/** "public.users" → "users". */
export function bareTableName(qualified: string): string {
  return TABLE_NAME.exec(qualified)?.[1] ?? qualified
}
