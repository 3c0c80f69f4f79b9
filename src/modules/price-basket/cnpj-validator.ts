import { ValidationError } from '../../errors.js'

/** 12 base characters (digits, or from July 2026 also letters) and 2 check digits. */
const SHAPE = /^[0-9A-Z]{12}[0-9]{2}$/

/**
 * A CNPJ (Brazilian company registry number) as stored: punctuation stripped, upper-case,
 * check digits verified. Accepts the alphanumeric form Receita Federal issues from July
 * 2026, whose check digits use each character's code minus 48 (so digits keep their value).
 *
 * @example
 *   normalizeCnpj('11.222.333/0001-81')   // "11222333000181"
 *   normalizeCnpj('11.222.333/0001-82')   // throws ValidationError
 */
export function normalizeCnpj(input: string): string {
  const cnpj = input.replace(/[.\/\-\s]/g, '').toUpperCase()
  if (!SHAPE.test(cnpj)) throw new ValidationError(`cnpj must have 14 characters, 12 plus 2 check digits (e.g. 11.222.333/0001-81), got "${input}"`)
  if (/^(.)\1{13}$/.test(cnpj)) throw new ValidationError(`cnpj "${input}" is not a real CNPJ (one digit repeated)`)
  const first = checkDigit(cnpj.slice(0, 12))
  const second = checkDigit(cnpj.slice(0, 12) + first)
  if (cnpj.slice(12) !== `${first}${second}`) throw new ValidationError(`cnpj "${input}" has wrong check digits; check the number`)
  return cnpj
}

/** Modulo-11 check digit with weights 2..9 from the right. */
function checkDigit(base: string): number {
  let sum = 0
  for (let i = 0; i < base.length; i++) {
    const weight = 2 + ((base.length - 1 - i) % 8)
    sum += (base.charCodeAt(i) - 48) * weight
  }
  const rest = sum % 11
  return rest < 2 ? 0 : 11 - rest
}
