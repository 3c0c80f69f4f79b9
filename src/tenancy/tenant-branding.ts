import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { CatalogDatabase, TenantLogoTable } from '../catalog/catalog-schema.js'
import { NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationError } from '../errors.js'
import type { TenantDirectory } from './tenant-directory.js'

export type LogoType = TenantLogoTable['content_type']

/** The largest logo accepted: a header mark, not a photo. */
export const MAX_LOGO_BYTES = 512 * 1024

/**
 * The raster types a logo may be, each with the signature its bytes must start with. SVG is
 * refused on purpose: it is a document that can carry script, and a logo is served to every
 * visitor of the tenant's sign-in page.
 */
const signatures: Array<{ type: LogoType; matches(bytes: Buffer): boolean }> = [
  { type: 'image/png', matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/webp', matches: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  { type: 'image/gif', matches: (b) => /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1')) },
]

export const logoTypes: readonly LogoType[] = signatures.map((s) => s.type)

export interface TenantLogo {
  contentType: LogoType
  /** Null when the caller already has these bytes (see TenantBranding.logo). */
  bytes: Buffer | null
  sha256: string
  updatedAt: Date
}

/** What the API says of a logo (never its bytes). */
export interface LogoInfo {
  contentType: LogoType
  sizeBytes: number
  sha256: string
  updatedAt: string
}

/**
 * A tenant's logo (runbook 003's coat of arms): checked on upload by its declared type and by
 * its own bytes, kept in the catalog, served back with the type recorded, never sniffed.
 *
 * @example
 *   await branding.setLogo(tenant.id, 'image/png', await readFile('brasao.png'))
 *   const logo = await branding.logo(tenant.id) // { contentType: 'image/png', bytes, sha256, updatedAt }
 */
export class TenantBranding {
  constructor(
    private readonly catalog: Kysely<CatalogDatabase>,
    private readonly tenants: TenantDirectory
  ) {}

  /** Stores (or replaces) a tenant's logo once its type and bytes agree; returns what was stored. */
  async setLogo(tenantId: string, declaredType: string | undefined, bytes: Buffer): Promise<LogoInfo> {
    const contentType = checkLogo(declaredType, bytes)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const row = await this.catalog
      .insertInto('tenant_logos')
      .values({ tenant_id: tenantId, content_type: contentType, bytes, sha256 })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ content_type: contentType, bytes, sha256, updated_at: new Date() }))
      .returning(['content_type', 'sha256', 'updated_at'])
      .executeTakeFirstOrThrow()
    await this.#reload(tenantId)
    return { contentType: row.content_type, sizeBytes: bytes.length, sha256: row.sha256, updatedAt: new Date(row.updated_at).toISOString() }
  }

  /**
   * The tenant's logo, or undefined when it has none. With `cachedSha256` (a client's ETag),
   * the bytes are read only when they changed: an unchanged logo comes back with `bytes` null.
   */
  async logo(tenantId: string, cachedSha256?: string): Promise<TenantLogo | undefined> {
    const row = await this.catalog
      .selectFrom('tenant_logos')
      .select(['content_type', 'sha256', 'updated_at', sql<Buffer | null>`case when sha256 = ${cachedSha256 ?? null} then null else bytes end`.as('bytes')])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    return row && { contentType: row.content_type, bytes: row.bytes, sha256: row.sha256, updatedAt: new Date(row.updated_at) }
  }

  /** What is known of the tenant's logo without its bytes, or null. */
  async logoInfo(tenantId: string): Promise<LogoInfo | null> {
    const row = await this.catalog
      .selectFrom('tenant_logos')
      .select(['content_type', 'sha256', 'updated_at', (eb) => eb.fn<number>('octet_length', ['bytes']).as('size')])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    return row ? { contentType: row.content_type, sizeBytes: Number(row.size), sha256: row.sha256, updatedAt: new Date(row.updated_at).toISOString() } : null
  }

  /** Removes the tenant's logo; NotFound when it had none. */
  async removeLogo(tenantId: string, slug: string): Promise<void> {
    const result = await this.catalog.deleteFrom('tenant_logos').where('tenant_id', '=', tenantId).executeTakeFirst()
    if (!result.numDeletedRows) throw new NotFound(`Tenant "${slug}" has no logo.`)
    await this.#reload(tenantId)
  }

  /** This replica's directory record carries the logo's checksum: reload it now (the others follow the NOTIFY). */
  async #reload(tenantId: string): Promise<void> {
    this.tenants.invalidate(tenantId)
    await this.tenants.refresh(tenantId)
  }
}

/** The logo's type when the declared Content-Type is accepted and the bytes really are that image. */
export function checkLogo(declaredType: string | undefined, bytes: Buffer): LogoType {
  const declared = (declaredType ?? '').split(';')[0]!.trim().toLowerCase()
  const accepted = logoTypes.join(', ')
  if (declared === 'image/svg+xml') throw new UnsupportedMediaType(`SVG logos are not accepted (an SVG can carry script); export it as PNG and upload that. Accepted: ${accepted}.`)
  if (!logoTypes.includes(declared as LogoType)) throw new UnsupportedMediaType(`A logo is sent as its raw bytes with Content-Type ${accepted}; got ${declared || 'none'}.`)
  if (bytes.length === 0) throw new ValidationError('The logo is empty: send the image file as the request body.')
  if (bytes.length > MAX_LOGO_BYTES) throw new PayloadTooLarge(`The logo is ${Math.ceil(bytes.length / 1024)} KiB; the limit is ${MAX_LOGO_BYTES / 1024} KiB. Resize it (a few hundred pixels wide is plenty for a header) and upload again.`)
  const actual = signatures.find((s) => s.matches(bytes))?.type
  if (!actual) throw new UnsupportedMediaType(`The file sent as ${declared} is not a ${declared.slice(6).toUpperCase()} image (its bytes do not start like one). Upload the image file itself.`)
  if (actual !== declared) throw new UnsupportedMediaType(`The file is a ${actual.slice(6).toUpperCase()} image but was sent as ${declared}; send it with Content-Type ${actual}.`)
  return actual
}
