import argon2 from 'argon2'

/**
 * argon2id hashing for operators' and tenant users' passwords (OWASP parameters:
 * 19 MiB, 2 iterations).
 *
 * @example
 *   const hash = await hashPassword('correct horse')
 *   await verifyPassword(hash, 'correct horse') // true
 */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 })
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

/** A hash of a random password: verifying against it costs the same as against a real one. */
let dummyHash: Promise<string> | undefined
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}`)
  return dummyHash
}

/** Rules for passwords people choose. Returns the problem, or undefined when fine. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8) return 'must be at least 8 characters'
  if (password.length > 256) return 'must be at most 256 characters'
  return undefined
}
