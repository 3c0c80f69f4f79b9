import { randomBytes } from 'node:crypto'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Config } from '../config.js'
import { hashPassword } from './password-hasher.js'

/**
 * Creates the first super-admin when the catalog has no operator: from
 * TENANTD_ADMIN_EMAIL / TENANTD_ADMIN_PASSWORD, or admin@<base domain> with a generated
 * password that the caller prints once. Concurrent starts create at most one (the insert
 * is conditional on the table being empty, under a transaction-level advisory lock).
 */
export async function ensureFirstSuperAdmin(catalog: CatalogDb, config: Config): Promise<{ created: boolean; email?: string; generatedPassword?: string }> {
  const any = await catalog.selectFrom('operators').select('id').limit(1).executeTakeFirst()
  if (any) return { created: false }
  const email = (config.adminEmail ?? `admin@${config.baseDomain === 'localhost' ? 'tenantd.local' : config.baseDomain}`).toLowerCase()
  const generatedPassword = config.adminPassword === undefined ? randomBytes(15).toString('base64url') : undefined
  const passwordHash = await hashPassword(config.adminPassword ?? generatedPassword!)
  const created = await catalog.transaction().execute(async (trx) => {
    await trx.selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.lit(7_411_203)]).as('locked')).execute()
    const again = await trx.selectFrom('operators').select('id').limit(1).executeTakeFirst()
    if (again) return false
    await trx.insertInto('operators').values({ email, name: 'Super Admin', password_hash: passwordHash, role: 'super_admin', tenant_id: null }).execute()
    return true
  })
  return created ? { created, email, ...(generatedPassword ? { generatedPassword } : {}) } : { created: false }
}
