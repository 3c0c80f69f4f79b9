import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Seals secrets (tenant role passwords, db host admin passwords) with AES-256-GCM.
 * A sealed value is `v1:<kid>:<iv b64>:<tag b64>:<ciphertext b64>`; a fresh 12-byte IV
 * every time. The keyring's first key seals; every key in it can open, so keys rotate by
 * putting a new key first and keeping the old ones until every secret is resealed.
 *
 * @example
 *   const sealer = SecretSealer.fromKeyring('k2:BASE64...,k1:BASE64...')
 *   const sealed = sealer.seal('s3cret')       // "v1:k2:..."
 *   sealer.open(sealed)                          // "s3cret"
 */
export class SecretSealer {
  readonly activeKeyId: string
  readonly #keys: Map<string, Buffer>

  private constructor(keys: Map<string, Buffer>, activeKeyId: string) {
    this.#keys = keys
    this.activeKeyId = activeKeyId
  }

  /**
   * Parses `kid:base64key[,kid:base64key...]`; each key must decode to 32 bytes. Newlines
   * separate keys too, so the embedded key file can take a new key as a new first line.
   */
  static fromKeyring(keyring: string): SecretSealer {
    const keys = new Map<string, Buffer>()
    let active: string | undefined
    for (const entry of keyring.split(/[,\r\n]/).map((s) => s.trim()).filter(Boolean)) {
      const colon = entry.indexOf(':')
      const kid = colon > 0 ? entry.slice(0, colon) : ''
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) {
        throw new KeyringError('each key needs an id of letters, digits, _ or - before a colon (kid:base64key)')
      }
      const key = Buffer.from(entry.slice(colon + 1), 'base64')
      if (key.length !== 32) throw new KeyringError(`key "${kid}" must be 32 bytes, base64-encoded (openssl rand -base64 32)`)
      if (keys.has(kid)) throw new KeyringError(`key id "${kid}" appears twice`)
      keys.set(kid, key)
      active ??= kid
    }
    if (active === undefined) throw new KeyringError('no key given (format kid:base64key)')
    return new SecretSealer(keys, active)
  }

  /** Every key id of the keyring, the active one first. */
  get keyIds(): string[] {
    return [...this.#keys.keys()]
  }

  /** Whether the keyring has this key id (and so can open what it sealed). */
  hasKey(kid: string): boolean {
    return this.#keys.has(kid)
  }

  /**
   * Opens a sealed value and seals it again under the active key id; one already sealed
   * by the active key is returned as it is.
   */
  reseal(sealed: string): string {
    if (SecretSealer.keyIdOf(sealed) === this.activeKeyId) return sealed
    return this.seal(this.open(sealed))
  }

  /** A new random keyring string with one key. */
  static generateKeyring(kid = 'k1'): string {
    return `${kid}:${randomBytes(32).toString('base64')}`
  }

  seal(plaintext: string): string {
    const key = this.#keys.get(this.activeKeyId)!
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.from(this.activeKeyId))
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return ['v1', this.activeKeyId, iv.toString('base64'), tag.toString('base64'), data.toString('base64')].join(':')
  }

  /** Opens a sealed value; a tampered or foreign value throws SealedSecretError. */
  open(sealed: string): string {
    const parts = sealed.split(':')
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SealedSecretError('not a sealed secret')
    const [, kid, iv, tag, data] = parts as [string, string, string, string, string]
    const key = this.#keys.get(kid)
    if (!key) throw new SealedSecretError(`sealed with key "${kid}", which is not in TENANTD_MASTER_KEY`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
      decipher.setAAD(Buffer.from(kid))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')
    } catch (cause) {
      throw new SealedSecretError('authentication failed: the sealed value was altered or the key is wrong', { cause })
    }
  }

  /** Key id a sealed value was sealed with. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(':')[1]
  }
}

export class KeyringError extends Error {
  constructor(problem: string) {
    super(`TENANTD_MASTER_KEY: ${problem}`)
    this.name = 'KeyringError'
  }
}

export class SealedSecretError extends Error {
  constructor(problem: string, options?: ErrorOptions) {
    super(`Cannot open sealed secret: ${problem}`, options)
    this.name = 'SealedSecretError'
  }
}
