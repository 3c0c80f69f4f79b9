import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SessionUser } from '../../auth/auth-service.js'
import { claimsFromPrincipal, type Principal } from '../../auth/principal.js'
import { Unauthorized } from '../../errors.js'
import { requirePrincipal } from '../guards.js'
import { LoginBody, MeSchema, RefreshTokenBody, TokenPairSchema } from '../schemas/auth-schemas.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'

/**
 * Login, refresh, logout and "who am I" (API.md "Auth"). Login on a tenant's host (or with
 * X-Tenant-ID) authenticates that tenant's users from its own database; anywhere else it
 * authenticates operators from the catalog. Every route is rate limited per client address.
 */
export async function authRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { auth, config } = app.tenantd
  const rateLimit = { max: config.authRateLimit, timeWindow: '1 minute' }
  // Login, refresh and logout ignore any bearer token: a stale one must not block them.
  const publicRoute = { rateLimit, ignoreBearer: true }
  const limited = { 423: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }

  const tokenPair = (principal: Principal, refreshToken: string, user: SessionUser) => ({
    accessToken: app.jwt.sign(claimsFromPrincipal(principal)),
    refreshToken,
    expiresIn: config.accessTokenTtl,
    user,
  })

  app.post(
    '/api/auth/login',
    {
      config: publicRoute,
      schema: {
        tags: ['auth'],
        summary: 'Log in: operators on the control host, tenant users on their tenant\'s host',
        security: [],
        body: LoginBody,
        response: { 200: TokenPairSchema, ...errorResponses, ...limited },
      },
    },
    async (request) => {
      const { email, password } = request.body
      const tenant = await tenantOfLogin(fastify, request)
      const { principal, user } = tenant
        ? await auth.loginTenantUser(tenant, email, password, request.ip)
        : await auth.loginOperator(email, password, request.ip)
      return tokenPair(principal, await auth.issueRefreshToken(principal), user)
    }
  )

  app.post(
    '/api/auth/refresh',
    {
      config: publicRoute,
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair (the old one is spent; reusing it revokes the session)',
        security: [],
        body: RefreshTokenBody,
        response: { 200: TokenPairSchema, ...errorResponses, ...limited },
      },
    },
    async (request) => {
      const { principal, refreshToken, user } = await auth.rotateRefreshToken(request.body.refreshToken, request.ip)
      return tokenPair(principal, refreshToken, user)
    }
  )

  app.post(
    '/api/auth/logout',
    {
      config: publicRoute,
      schema: {
        tags: ['auth'],
        summary: 'Revoke the session of a refresh token',
        security: [],
        body: RefreshTokenBody,
        response: { 204: { type: 'null', description: 'Logged out' }, ...errorResponses, 429: ErrorSchema },
      },
    },
    async (request, reply) => {
      await auth.revokeRefreshToken(request.body.refreshToken)
      return reply.status(204).send(null)
    }
  )

  app.get(
    '/api/auth/me',
    {
      config: { rateLimit },
      schema: { tags: ['auth'], summary: 'Who the access token belongs to', response: { 200: MeSchema, ...errorResponses, 429: ErrorSchema, 503: ErrorSchema } },
    },
    async (request) => {
      const principal = requirePrincipal(request)
      const user = await auth.currentUser(principal)
      if (!user) throw new Unauthorized('This account no longer exists or was deactivated. Log in again.')
      return { ...user, kind: principal.kind, permissions: principal.kind === 'tenant_user' ? principal.permissions : [] }
    }
  )
}

/**
 * The tenant whose users a login authenticates, when the request names one (Host subdomain
 * or X-Tenant-ID); undefined on the control host. The tenant must exist and be serving.
 */
async function tenantOfLogin(app: FastifyInstance, request: FastifyRequest) {
  const tenantHeader = request.headers['x-tenant-id']
  const named = app.tenantResolver.tenantKey({
    host: request.headers.host,
    tenantHeader: Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader,
    principal: null,
  })
  if (!named) return undefined
  await app.resolveTenant(request)
  return request.tenant ?? undefined
}
