import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Selectable } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { RefreshTokenTable } from '../catalog/catalog-schema.js'

export type RefreshTokenRow = Selectable<RefreshTokenTable>

/** Whom a refresh token lets mint new access tokens. */
export interface RefreshSubject {
  type: 'operator' | 'tenant_user'
  id: string
  tenantId: string | null
}

/** What presenting a refresh token for rotation led to. */
export type RotateOutcome<T> =
  | { kind: 'rotated'; row: RefreshTokenRow; subject: T; refreshToken: string }
  /** The token was already spent: its whole family has just been revoked. */
  | { kind: 'reused'; row: RefreshTokenRow }
  /** The subject is gone or may no longer log in: the family has been revoked. */
  | { kind: 'subject_gone'; row: RefreshTokenRow }
  | { kind: 'invalid'; reason: 'unknown' | 'revoked' | 'expired' }

/** A new opaque refresh token: 32 random bytes, base64url. */
export function generateRefreshToken(): string {
  return randomBytes(32).toString('base64url')
}

/** What the catalog stores instead of the token (sha256, hex): a leaked table grants nothing. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/**
 * Refresh tokens in the catalog's `refresh_tokens`, stored hashed. Each login starts a
 * family; every rotation spends the presented token and issues the next one of the same
 * family. Presenting a spent token means it was copied: the whole family is revoked.
 *
 * @example
 *   const tokens = new RefreshTokens(catalog, 30 * 86_400)
 *   const token = await tokens.issue({ type: 'operator', id, tenantId: null })
 *   const outcome = await tokens.rotate(token, (row) => loadSubject(row))
 */
export class RefreshTokens {
  constructor(
    private readonly catalog: CatalogDb,
    /** Lifetime of each token, in seconds. */
    private readonly ttlSeconds: number
  ) {}

  /** Stores a new token for the subject (a new family unless one is given) and returns it. */
  async issue(subject: RefreshSubject, familyId: string = randomUUID(), db: CatalogDb = this.catalog): Promise<string> {
    const token = generateRefreshToken()
    await db
      .insertInto('refresh_tokens')
      .values({
        family_id: familyId,
        token_hash: hashRefreshToken(token),
        subject_type: subject.type,
        subject_id: subject.id,
        tenant_id: subject.tenantId,
        expires_at: new Date(Date.now() + this.ttlSeconds * 1000),
      })
      .execute()
    return token
  }

  /**
   * Spends `token` and issues its successor, in one transaction. The row is read
   * `FOR UPDATE`, so of two concurrent rotations of the same token the second waits, then
   * sees it spent and counts as reuse. `load` reloads the subject (null: it may no longer
   * log in); it runs while the row is locked and may throw (e.g. tenant suspended), which
   * leaves the token unspent.
   */
  async rotate<T>(token: string, load: (row: RefreshTokenRow) => Promise<T | null>): Promise<RotateOutcome<T>> {
    return this.catalog.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', hashRefreshToken(token))
        .forUpdate()
        .executeTakeFirst()
      if (!row) return { kind: 'invalid', reason: 'unknown' } as const
      if (row.spent_at !== null) {
        await revokeFamily(trx, row.family_id)
        return { kind: 'reused', row } as const
      }
      if (row.revoked_at !== null) return { kind: 'invalid', reason: 'revoked' } as const
      if (new Date(row.expires_at).getTime() <= Date.now()) return { kind: 'invalid', reason: 'expired' } as const
      const subject = await load(row)
      if (subject === null) {
        await revokeFamily(trx, row.family_id)
        return { kind: 'subject_gone', row } as const
      }
      await trx.updateTable('refresh_tokens').set({ spent_at: new Date() }).where('id', '=', row.id).execute()
      const refreshToken = await this.issue({ type: row.subject_type, id: row.subject_id, tenantId: row.tenant_id }, row.family_id, trx)
      return { kind: 'rotated', row, subject, refreshToken } as const
    })
  }

  /** Revokes the family of `token` (logout ends the whole session). False when unknown. */
  async revoke(token: string): Promise<boolean> {
    const row = await this.catalog
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('token_hash', '=', hashRefreshToken(token))
      .executeTakeFirst()
    if (!row) return false
    await revokeFamily(this.catalog, row.family_id)
    return true
  }
}

async function revokeFamily(db: CatalogDb, familyId: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute()
}
