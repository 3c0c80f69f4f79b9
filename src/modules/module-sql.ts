import { sql, type ColumnType, type SelectQueryBuilder } from 'kysely'
import { Conflict, sqlState, ValidationError } from '../errors.js'

/** SQLSTATEs of constraint violations modules answer as 4xx (never a 500). */
const UNIQUE_VIOLATION = '23505'
const FOREIGN_KEY_VIOLATION = '23503'
const CHECK_VIOLATION = '23514'
const NOT_NULL_VIOLATION = '23502'

/** The coded error to answer for a violated constraint, by constraint name. */
export type ConstraintErrors = Record<string, () => Error>

/**
 * Turns a constraint violation into a coded error: by SQLSTATE and constraint name (never by
 * message text), with a generic 409/400 for constraints the caller did not name. Other
 * errors are returned unchanged, to be rethrown.
 *
 * @example
 *   catch (error) { throw constraintError(error, { customers_email_key: () => new Conflict('...') }) }
 */
export function constraintError(error: unknown, named: ConstraintErrors): unknown {
  const state = sqlState(error)
  const constraint = (error as { constraint?: unknown } | null)?.constraint
  const make = typeof constraint === 'string' ? named[constraint] : undefined
  if (make && (state === UNIQUE_VIOLATION || state === FOREIGN_KEY_VIOLATION || state === CHECK_VIOLATION)) return withCause(make(), error)
  if (state === UNIQUE_VIOLATION) return withCause(new Conflict('a record with these values already exists'), error)
  if (state === FOREIGN_KEY_VIOLATION) return withCause(new ValidationError('the request refers to a record that does not exist, or the record is still referenced'), error)
  if (state === CHECK_VIOLATION || state === NOT_NULL_VIOLATION) return withCause(new ValidationError('a value breaks a rule of this record (empty name, zero quantity, negative price, unknown status ...); check the request body'), error)
  return error
}

function withCause(coded: Error, cause: unknown): Error {
  coded.cause = cause
  return coded
}

/** `text` as a literal inside ILIKE: its %, _ and \ match themselves. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** Optional text from the API: trimmed, blank stored as null. */
export function optionalText(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/** Required text from the API: trimmed, refused when blank. */
export function requiredText(value: string, field: string): string {
  const trimmed = value.trim()
  if (trimmed === '') throw new ValidationError(`${field} must not be blank`)
  return trimmed
}

/** Keeps only the keys whose value is not undefined (a PATCH sets only what it names). */
export function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Column types shared by module tables. `created_at` is set by the database only. */
export type CreatedAt = ColumnType<Date, never, never>
export type UpdatedAt = ColumnType<Date, never, Date | string>
/** numeric columns: node-postgres returns them as strings, and they are written as strings, so no precision is lost. */
export type Decimal = ColumnType<string, string, string>

/** One page of a list: `items`, and `total` over all pages. */
export interface Page<T> {
  items: T[]
  total: number
  limit: number
  offset: number
}

/**
 * One page of a module list, its total riding along as `count(*) over ()` (one query per
 * page). A page past the end has no row to carry the total, so then `filtered` is counted
 * apart.
 *
 * @example
 *   const select = db.selectFrom('leads').where('status', '=', 'new')
 *   return fetchPage(select, select.selectAll().orderBy('created_at', 'desc').orderBy('id'), query, toLead)
 */
export async function fetchPage<FDB, FTB extends keyof FDB, DB, TB extends keyof DB, O, T>(
  filtered: SelectQueryBuilder<FDB, FTB, object>,
  ordered: SelectQueryBuilder<DB, TB, O>,
  query: { limit?: number; offset?: number },
  toItem: (row: O) => T
): Promise<Page<T>> {
  const limit = query.limit ?? 50
  const offset = query.offset ?? 0
  const rows = (await ordered.select(sql<string>`count(*) over ()`.as('total_count')).limit(limit).offset(offset).execute()) as Array<O & { total_count: string }>
  let total = rows[0] ? Number(rows[0].total_count) : 0
  if (!rows[0] && offset > 0) {
    const counted = (await filtered.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()) as { n: string }
    total = Number(counted.n)
  }
  return { items: rows.map(toItem), total, limit, offset }
}

/**
 * A decimal from the API (JSON number or string) as the exact string PostgreSQL stores,
 * checked against the column's precision so a bad value is a 400, never a numeric overflow.
 *
 * @example
 *   decimal(10.5, { field: 'price', scale: 2, digits: 10 })   // "10.5"
 */
export function decimal(value: string | number, rule: { field: string; scale: number; digits: number; positive?: boolean }): string {
  const text = typeof value === 'number' ? String(value) : value.trim()
  const shape = new RegExp(`^\\d{1,${rule.digits}}(\\.\\d{1,${rule.scale}})?$`)
  const example = rule.scale === 2 ? '10.50' : '2.5'
  if (!shape.test(text)) {
    throw new ValidationError(`${rule.field} must be a decimal number ${rule.positive ? '> 0' : '>= 0'} with at most ${rule.digits} digits before the point and ${rule.scale} after (e.g. ${example}), got ${JSON.stringify(value)}`)
  }
  if (rule.positive && !/[1-9]/.test(text)) throw new ValidationError(`${rule.field} must be greater than 0, got ${JSON.stringify(value)}`)
  return text
}
