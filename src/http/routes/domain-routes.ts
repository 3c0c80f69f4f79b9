import type { FastifyInstance, FastifyRequest } from 'fastify'
import { DomainNotVerified, NotFound } from '../../errors.js'
import { assertCanAdministerTenant, requireOperator } from '../guards.js'
import { ErrorSchema, IdParams, errorResponses } from '../schemas/common-schemas.js'
import {
  AddDomainBody,
  type AddDomainBodyType,
  AddDomainReply,
  type DomainParamsType,
  DomainParams,
  TenantDomainSchema,
  WellKnownParams,
  type WellKnownParamsType,
} from '../schemas/domain-schemas.js'
import { Type } from 'typebox'

/**
 * Custom domains of a tenant (super-admins, or the tenant's own tenant admins) and the
 * verification token tenantd serves on them at /.well-known/tenantd/<token>.
 */
export async function domainRoutes(app: FastifyInstance): Promise<void> {
  const { tenants, domains, audit } = app.tenantd

  const actor = (request: FastifyRequest) => ({
    actorType: 'operator' as const,
    actorId: request.principal?.id ?? null,
    actorEmail: request.principal?.email ?? null,
    ip: request.ip,
  })
  const tenantFor = async (request: FastifyRequest) => {
    const tenant = await tenants.get((request.params as { id: string }).id)
    assertCanAdministerTenant(request, tenant.id)
    return tenant
  }

  app.post(
    '/api/admin/tenants/:id/domains',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['domains'],
        summary: 'Add a custom domain (pending until verified)',
        params: IdParams,
        body: AddDomainBody,
        response: { 201: AddDomainReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = await tenantFor(request)
      const domain = await domains.add(tenant, (request.body as AddDomainBodyType).domain)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'domain.add', target: domain.domain, details: { status: domain.status } })
      const instructions =
        `Point ${domain.domain} at the edge (DNS A/AAAA or CNAME to the address Caddy serves on, port 80 open), ` +
        `then verify: tenantd will GET ${domain.verification.url} and expects 200 with body "${domain.verification.expectedBody}", ` +
        `which it serves itself once the name reaches it. Run \`tenantctl domains verify ${tenant.slug} ${domain.domain}\` ` +
        `or POST /api/admin/tenants/${tenant.slug}/domains/${domain.domain}/verify.`
      return reply.status(201).send({ domain, instructions })
    }
  )

  app.get(
    '/api/admin/tenants/:id/domains',
    {
      preHandler: requireOperator,
      schema: { tags: ['domains'], summary: "A tenant's custom domains", params: IdParams, response: { 200: Type.Object({ items: Type.Array(TenantDomainSchema) }), ...errorResponses } },
    },
    async (request) => ({ items: await domains.list(await tenantFor(request)) })
  )

  app.post(
    '/api/admin/tenants/:id/domains/:domain/verify',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['domains'],
        summary: 'Verify a domain: tenantd fetches http://<domain>/.well-known/tenantd/<token> (no redirects, 5 s)',
        params: DomainParams,
        response: { 200: TenantDomainSchema, ...errorResponses, 422: ErrorSchema },
      },
    },
    async (request) => {
      const tenant = await tenantFor(request)
      const name = (request.params as DomainParamsType).domain
      try {
        const domain = await domains.verify(tenant, name)
        await audit.record({ ...actor(request), tenantId: tenant.id, action: 'domain.verify', target: domain.domain, details: { verified: true } })
        return domain
      } catch (error) {
        if (error instanceof DomainNotVerified) {
          await audit.record({ ...actor(request), tenantId: tenant.id, action: 'domain.verify', target: domains.normalize(name), details: { verified: false, reason: (error as Error).message } })
        }
        throw error
      }
    }
  )

  app.delete(
    '/api/admin/tenants/:id/domains/:domain',
    {
      preHandler: requireOperator,
      schema: { tags: ['domains'], summary: 'Remove a custom domain (it stops routing at once)', params: DomainParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      const tenant = await tenantFor(request)
      const domain = await domains.remove(tenant, (request.params as DomainParamsType).domain)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'domain.remove', target: domain.domain, details: { status: domain.status } })
      return reply.status(204).send()
    }
  )

  app.get(
    '/.well-known/tenantd/:token',
    {
      schema: {
        tags: ['domains'],
        summary: "A domain's verification token, served on that domain (Host) while it is pending or verified",
        security: [],
        params: WellKnownParams,
        response: { 200: Type.String(), 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const token = await domains.wellKnownToken(request.headers.host, (request.params as WellKnownParamsType).token)
      if (token === undefined) throw new NotFound('No verification token for this name here.')
      return reply.type('text/plain; charset=utf-8').send(token)
    }
  )
}
