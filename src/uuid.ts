const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Whether a string is a UUID, checked before it reaches a `uuid` column (PostgreSQL would
 * refuse a malformed one with an error, not a "not found").
 *
 * @example
 *   isUuid('0b4d1e4e-1b39-4ba2-b456-140c9285ac2f') // true
 *   isUuid('acme')                                 // false: a slug
 */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}
