import { ValidationError } from '../errors.js'

/** Slugs: lowercase letters, digits and single hyphens; 3-40 characters; a letter first. */
export const SLUG_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,39}$/
const RESERVED = new Set(['www', 'api', 'admin', 'app', 'docs', 'panel', 'status', 'mail', 'postgres', 'template0', 'template1', 'tenantd'])

/**
 * Validates a slug (or subdomain) against the allowlist; the error says what to send instead.
 *
 * @example
 *   assertSlug('acme-corp', 'slug')   // ok
 *   assertSlug('a";drop', 'slug')     // throws 400 ValidationError
 */
export function assertSlug(value: string, field: 'slug' | 'subdomain'): string {
  if (!SLUG_PATTERN.test(value)) {
    throw new ValidationError(
      `${field} "${truncate(value)}" is not allowed: use 3-40 lowercase letters, digits and single hyphens, starting with a letter (e.g. "acme-corp")`
    )
  }
  if (RESERVED.has(value)) throw new ValidationError(`${field} "${value}" is reserved; choose another`)
  return value
}

/** A slug derived from a tenant's name: "Prefeitura de Santa Rita" -> "prefeitura-de-santa-rita". */
export function slugFromName(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '')
  const withLetter = /^[a-z]/.test(base) ? base : `t-${base}`.slice(0, 40).replace(/-+$/g, '')
  return withLetter.length >= 3 ? withLetter : `${withLetter}-tenant`.replace(/^-/, '')
}

/** Database and role names follow from the slug, so they never need quoting beyond the basics. */
export function databaseNameFor(slug: string): string {
  return `tenant_${slug.replace(/-/g, '_')}`
}

export function roleNameFor(slug: string): string {
  return `tenant_${slug.replace(/-/g, '_')}_owner`
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value
}
