import { Type, type Static } from 'typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFound } from '../../errors.js'
import type { TenantRecord } from '../../tenancy/tenant-directory.js'
import { MAX_LOGO_BYTES, logoTypes, type LogoInfo } from '../../tenancy/tenant-branding.js'
import { profileChanges, updateTenantProfile } from '../../tenancy/tenant-profile.js'
import { tenantOf } from '../plugins/tenant-resolver-plugin.js'
import { assertCanAdministerTenant, requireOperator } from '../guards.js'
import { IdParams, Nullable, errorResponses } from '../schemas/common-schemas.js'

const LogoInfoSchema = Type.Object({
  contentType: Type.String({ description: logoTypes.join(', ') }),
  sizeBytes: Type.Integer(),
  sha256: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
})

const BrandingSchema = Type.Object({
  name: Type.String({ description: 'display name, shown in the panel header' }),
  logo: Nullable(LogoInfoSchema),
})

const NameBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })

const logoBody = {
  description: `The image file itself as the request body, with Content-Type ${logoTypes.join(', ')}; at most ${MAX_LOGO_BYTES / 1024} KiB. SVG is refused (it can carry script).`,
}

/**
 * A tenant's branding (issue 10, runbook 003's coat of arms): its display name and logo.
 * Operators manage it under /api/admin/tenants/:id; a tenant's own admins under
 * /api/tenants/current on the tenant's address, where the logo is public (the sign-in page shows it).
 */
export async function brandingRoutes(app: FastifyInstance): Promise<void> {
  const { branding, tenants, audit, catalog } = app.tenantd

  // Logos arrive as raw bytes: any type reaches the handler, which says which ones it takes
  // (JSON keeps its own parser). Bodies up to twice the limit get checkLogo's message, not fastify's.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 2 * MAX_LOGO_BYTES }, (_request, body, done) => done(null, body))

  const actor = (request: FastifyRequest) => ({
    actorType: request.principal?.kind === 'tenant_user' ? ('tenant_user' as const) : ('operator' as const),
    actorId: request.principal?.id ?? null,
    actorEmail: request.principal?.email ?? null,
    ip: request.ip,
  })

  const setLogo = async (request: FastifyRequest, tenant: TenantRecord): Promise<LogoInfo> => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const info = await branding.setLogo(tenant.id, request.headers['content-type'], body)
    await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.logo.set', target: tenant.slug, details: { contentType: info.contentType, sizeBytes: info.sizeBytes, sha256: info.sha256 } })
    return info
  }
  const removeLogo = async (request: FastifyRequest, reply: FastifyReply, tenant: TenantRecord) => {
    await branding.removeLogo(tenant.id, tenant.slug)
    await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.logo.remove', target: tenant.slug })
    return reply.status(204).send()
  }
  const sendLogo = async (request: FastifyRequest, reply: FastifyReply, tenant: TenantRecord) => {
    // The ETag is the checksum in quotes; a client that has this one gets a 304 without the bytes being read.
    const cached = /^"([0-9a-f]{64})"$/.exec(request.headers['if-none-match'] ?? '')?.[1]
    const logo = await branding.logo(tenant.id, cached)
    if (!logo) throw new NotFound(`Tenant "${tenant.slug}" has no logo. Upload one on its page in the panel, or with \`tenantctl branding ${tenant.slug} --logo <file>\`.`)
    const etag = `"${logo.sha256}"`
    reply
      .header('content-type', logo.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('content-disposition', `inline; filename="logo.${logo.contentType.slice(6)}"`)
      .header('cache-control', 'no-cache')
      .header('etag', etag)
    if (logo.bytes === null) return reply.status(304).send()
    return reply.send(logo.bytes)
  }
  const brandingOf = async (tenant: TenantRecord) => ({ name: tenant.name, logo: await branding.logoInfo(tenant.id) })
  const rename = async (request: FastifyRequest, tenant: TenantRecord, name: string) => {
    const { before, after } = await updateTenantProfile({ catalog: catalog.db, tenants }, tenant.id, { name })
    const changes = profileChanges(before, after)
    if (changes.name) await audit.record({ ...actor(request), tenantId: after.id, action: 'tenant.update', target: after.slug, details: changes })
    return brandingOf(after)
  }

  const adminTenant = async (request: FastifyRequest) => {
    const tenant = await tenants.get((request.params as { id: string }).id)
    assertCanAdministerTenant(request, tenant.id)
    return tenant
  }
  const currentTenantAdmin = (request: FastifyRequest) => {
    const tenant = tenantOf(request)
    assertCanAdministerTenant(request, tenant.id)
    return tenant
  }
  const binary = { 200: { description: 'the logo image, with its own Content-Type' }, 304: { description: 'unchanged (If-None-Match)' } }

  app.get(
    '/api/admin/tenants/:id/branding',
    { preHandler: requireOperator, schema: { tags: ['tenants'], summary: "A tenant's display name and logo (type, size, checksum)", params: IdParams, response: { 200: BrandingSchema, ...errorResponses } } },
    async (request) => brandingOf(await adminTenant(request))
  )
  app.get(
    '/api/admin/tenants/:id/logo',
    { preHandler: requireOperator, schema: { tags: ['tenants'], summary: "A tenant's logo image", params: IdParams, response: { ...binary, ...errorResponses } } },
    async (request, reply) => sendLogo(request, reply, await adminTenant(request))
  )
  app.put(
    '/api/admin/tenants/:id/logo',
    { preHandler: requireOperator, schema: { tags: ['tenants'], summary: "Upload (or replace) a tenant's logo", params: IdParams, body: logoBody, response: { 200: LogoInfoSchema, ...errorResponses } } },
    async (request) => setLogo(request, await adminTenant(request))
  )
  app.delete(
    '/api/admin/tenants/:id/logo',
    { preHandler: requireOperator, schema: { tags: ['tenants'], summary: "Remove a tenant's logo", params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => removeLogo(request, reply, await adminTenant(request))
  )

  app.get(
    '/api/tenants/current/logo',
    { preHandler: app.resolveTenant, schema: { tags: ['tenant'], summary: "The resolved tenant's logo (public: its sign-in page shows it)", response: { ...binary, ...errorResponses } } },
    async (request, reply) => sendLogo(request, reply, tenantOf(request))
  )
  app.get(
    '/api/tenants/current/branding',
    { preHandler: app.resolveTenant, schema: { tags: ['tenant'], summary: "The resolved tenant's display name and logo (tenant admins)", response: { 200: BrandingSchema, ...errorResponses } } },
    async (request) => brandingOf(currentTenantAdmin(request))
  )
  app.patch(
    '/api/tenants/current',
    { preHandler: app.resolveTenant, schema: { tags: ['tenant'], summary: "Rename the tenant (its admins): the name the panel and sign-in page show", body: NameBody, response: { 200: BrandingSchema, ...errorResponses } } },
    async (request) => rename(request, currentTenantAdmin(request), (request.body as Static<typeof NameBody>).name)
  )
  app.put(
    '/api/tenants/current/logo',
    { preHandler: app.resolveTenant, schema: { tags: ['tenant'], summary: "Upload (or replace) the tenant's logo (its admins)", body: logoBody, response: { 200: LogoInfoSchema, ...errorResponses } } },
    async (request) => setLogo(request, currentTenantAdmin(request))
  )
  app.delete(
    '/api/tenants/current/logo',
    { preHandler: app.resolveTenant, schema: { tags: ['tenant'], summary: "Remove the tenant's logo (its admins)", response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => removeLogo(request, reply, currentTenantAdmin(request))
  )
}
