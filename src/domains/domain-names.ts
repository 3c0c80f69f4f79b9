import { isIP } from 'node:net'
import { domainToASCII } from 'node:url'
import { ValidationError } from '../errors.js'

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const ALLOWED = 'a domain name such as shop.example.com: ASCII letters, digits and hyphens, at least two labels of 1-63 characters, 253 characters in all'

/**
 * Validates and normalizes a custom domain: lower case, one trailing dot dropped. Refused
 * with 400 ValidationError (saying what is allowed): IP addresses, single labels, labels over
 * 63 characters, names over 253, wildcards, underscores, and names under the base domain
 * (those are tenant subdomains). Unicode names are refused, not converted: the message gives
 * their punycode (xn--) form to send instead, so what is stored is exactly what was asked.
 *
 * @example
 *   normalizeDomain('Shop.Example.COM.', 'tenants.example.com')   // 'shop.example.com'
 *   normalizeDomain('*.example.com', 'tenants.example.com')       // throws 400
 */
export function normalizeDomain(input: string, baseDomain: string): string {
  const shown = input.length > 60 ? `${input.slice(0, 57)}...` : input
  const refuse = (why: string): never => {
    throw new ValidationError(`domain "${shown}" is not allowed: ${why}; send ${ALLOWED}`)
  }
  let name = input.trim().toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  if (name === '') refuse('it is empty')
  if (name.length > 253) refuse('it is longer than 253 characters')
  if (isIP(name) || isIP(name.replace(/^\[|\]$/g, ''))) refuse('it is an IP address (only names can be verified and get certificates)')
  if (name.includes('*')) refuse('wildcards are not supported (add each name)')
  if (name.includes('_')) refuse('underscores are not valid in host names')
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name)
    refuse(ascii ? `it is not ASCII; send its punycode form "${ascii}" instead` : 'it is not ASCII and has no valid punycode form')
  }
  const labels = name.split('.')
  if (labels.length < 2) refuse('it needs at least two labels (e.g. example.com)')
  for (const label of labels) {
    if (label.length === 0) refuse('it has an empty label (two dots in a row, or a leading dot)')
    if (label.length > 63) refuse('a label is longer than 63 characters')
    if (!LABEL.test(label)) refuse(`label "${label.length > 20 ? `${label.slice(0, 17)}...` : label}" may only hold letters, digits and inner hyphens`)
  }
  if (/^[0-9]+$/.test(labels.at(-1)!)) refuse('the last label is all digits')
  const base = baseDomain.toLowerCase()
  if (name === base || name.endsWith(`.${base}`)) {
    refuse(`names under ${base} are tenant subdomains; change the tenant's subdomain instead (PATCH /api/admin/tenants/:id, \`tenantctl update <tenant> --subdomain\`)`)
  }
  return name
}
