import fastifyJwt from '@fastify/jwt'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { principalFromClaims, type AccessTokenClaims, type Principal } from '../../auth/principal.js'
import { Unauthorized } from '../../errors.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    user: AccessTokenClaims
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route does not look at the bearer token at all (principal stays null): login,
     * refresh and logout must work while the caller still sends an expired access token.
     */
    ignoreBearer?: boolean
  }
}

const REFRESH_HINT = 'The access token is invalid or expired: refresh it (POST /api/auth/refresh) or log in again (POST /api/auth/login).'

/**
 * Bearer authentication and rate limiting for the API.
 *
 * - `@fastify/jwt` (HS256, `app.tenantd.jwtSecret`, expiry `accessTokenTtl`) signs access
 *   tokens: `app.jwt.sign(claimsFromPrincipal(principal))`.
 * - An `onRequest` hook sets `request.principal`: null without an Authorization header, the
 *   token's principal with a valid `Bearer` token, and 401 Unauthorized for a header that is
 *   present but not a valid, unexpired token (a bad token is never treated as anonymous).
 * - `@fastify/rate-limit` with `global: false`: routes opt in with
 *   `config: { rateLimit: { max, timeWindow } }` and answer 429 RateLimited when over.
 *
 * @example
 *   app.post('/api/auth/login', { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, handler)
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const { config } = app.tenantd
    await app.register(fastifyJwt, {
      secret: app.tenantd.jwtSecret,
      sign: { algorithm: 'HS256', expiresIn: config.accessTokenTtl },
      verify: { algorithms: ['HS256'] },
    })
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
        // v10 throws what this returns; the one error handler turns it into {error, message}.
        return Object.assign(new Error(`Too many requests from this address; retry in ${seconds} seconds.`), { statusCode: 429, code: 'RateLimited' })
      },
    })

    app.decorateRequest('principal', null)
    app.addHook('onRequest', async (request) => {
      request.principal = null
      if (request.routeOptions.config?.ignoreBearer) return
      const header = request.headers.authorization
      if (header === undefined) return
      request.principal = verifyBearer(app, request, header)
    })
  },
  { name: 'auth' }
)

function verifyBearer(app: FastifyInstance, request: FastifyRequest, header: string): Principal {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
  if (!match) throw new Unauthorized(`The Authorization header must be "Bearer <access token>". ${REFRESH_HINT}`)
  let claims: AccessTokenClaims
  try {
    claims = app.jwt.verify<AccessTokenClaims>(match[1]!)
  } catch {
    // The reason (expired, bad signature, malformed) stays out of the reply and the log line
    // carries no token.
    request.log.debug('rejected bearer token')
    throw new Unauthorized(REFRESH_HINT)
  }
  if (!isAccessClaims(claims)) throw new Unauthorized(REFRESH_HINT)
  return principalFromClaims(claims)
}

function isAccessClaims(claims: unknown): claims is AccessTokenClaims {
  if (typeof claims !== 'object' || claims === null) return false
  const c = claims as Record<string, unknown>
  return (
    typeof c.sub === 'string' &&
    (c.typ === 'operator' || c.typ === 'tenant_user') &&
    typeof c.role === 'string' &&
    typeof c.email === 'string' &&
    (c.typ !== 'tenant_user' || typeof c.tid === 'string')
  )
}
