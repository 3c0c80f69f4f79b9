import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import http from 'node:http'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import './http/fastify-types.js'
import { authPlugin } from './http/plugins/auth-plugin.js'
import { errorHandler } from './http/plugins/error-handler.js'
import { moduleRoutesPlugin } from './http/plugins/module-routes-plugin.js'
import { tenantResolverPlugin } from './http/plugins/tenant-resolver-plugin.js'
import { auditRoutes } from './http/routes/audit-routes.js'
import { authRoutes } from './http/routes/auth-routes.js'
import { healthRoutes } from './http/routes/health-routes.js'
import { hostRoutes } from './http/routes/host-routes.js'
import { migrationRoutes } from './http/routes/migration-routes.js'
import { caddyAskFastPath, caddyAskRoutes } from './http/routes/caddy-ask-routes.js'
import { edgeRoutes } from './http/routes/edge-routes.js'
import { domainRoutes } from './http/routes/domain-routes.js'
import { tenantUpdateRoutes } from './http/routes/tenant-update-routes.js'
import { moduleAdminRoutes } from './http/routes/module-admin-routes.js'
import { operationRoutes } from './http/routes/operation-routes.js'
import { operatorRoutes } from './http/routes/operator-routes.js'
import { tenantAdminRoutes } from './http/routes/tenant-admin-routes.js'
import { userRoutes } from './http/routes/user-routes.js'
import { backupRoutes } from './http/routes/backup-routes.js'
import { backupPruneRoutes } from './http/routes/backup-prune-routes.js'
import { backupScheduleRoutes } from './http/routes/backup-schedule-routes.js'
import { planRoutes } from './http/routes/plan-routes.js'
import { exportRoutes } from './http/routes/export-routes.js'
import { keyRoutes } from './http/routes/key-routes.js'
import { credentialRoutes } from './http/routes/credential-routes.js'
import { moveRoutes } from './http/routes/move-routes.js'
import { panelRoutes } from './panel/panel-routes.js'
import { brandingRoutes } from './http/routes/branding-routes.js'
import { sizeHistoryRoutes } from './http/routes/size-history-routes.js'
import { ErrorSchema } from './http/schemas/common-schemas.js'
import type { Tenantd } from './tenantd.js'
import { ValidationError } from './errors.js'

export interface AppOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number
}

/**
 * Builds the HTTP app over a started tenantd: plugins, routes, one error handler, OpenAPI at /docs.
 *
 * @example
 *   const app = await buildApp(await startTenantd(config, log))
 *   await app.listen({ port: 5000 })
 */
export async function buildApp(tenantd: Tenantd, options: AppOptions = {}): Promise<FastifyInstance> {
  // Caddy's on-demand TLS ask is answered before fastify when it comes in Caddy's own shape
  // (caddyAskFastPath); set once the resolver exists, below.
  let fastAsk: ((request: http.IncomingMessage, response: http.ServerResponse) => boolean) | undefined
  const app = Fastify({
    serverFactory: (handler, serverOptions) => {
      const server = http.createServer((request, response) => fastAsk?.(request, response) || handler(request, response))
      // What fastify sets on the server it makes itself (it leaves a factory's server alone).
      const { keepAliveTimeout, requestTimeout, connectionTimeout } = serverOptions as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number }
      if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout
      if (requestTimeout !== undefined) server.requestTimeout = requestTimeout
      server.setTimeout(connectionTimeout ?? 0)
      return server
    },
    loggerInstance: tenantd.log,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    // X-Forwarded-* count only from these peers (TENANTD_TRUSTED_PROXIES), e.g. Caddy.
    trustProxy: tenantd.config.trustedProxies,
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, allowUnionTypes: true } },
    // Malformed URLs and over-long parameters never reach the error handler: answer them alike.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ error: 'ValidationError', message: `${error.message}; check the URL.` })
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // JSON only: a text/plain body is refused (415) instead of half-parsed.
  app.removeContentTypeParser('text/plain')
  // PostgreSQL text cannot hold NUL; refuse it up front with a 400 instead of failing deep inside.
  app.addHook('preValidation', async (request) => {
    const where = nulPath(request.body, 'body') ?? nulPath(request.query, 'querystring') ?? nulPath(request.params, 'params')
    if (where) throw new ValidationError(`${where} must not contain NUL (\\u0000) characters; send plain text`)
  })

  app.decorate('tenantd', tenantd)
  app.addSchema(ErrorSchema)
  await app.register(swagger, {
    openapi: {
      info: { title: 'tenantd', description: 'Control plane for per-tenant PostgreSQL databases', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'tenants', description: 'Provisioning and lifecycle (runbook 002)' },
        { name: 'operations', description: 'Durable operations' },
        { name: 'hosts', description: 'Database hosts' },
        { name: 'modules', description: 'Modules per tenant (runbook 003)' },
        { name: 'migrations', description: 'Tenant migrations across the fleet' },
        { name: 'auth', description: 'Operators and tenant users' },
        { name: 'tenant', description: 'Tenant-scoped routes' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'domains', description: 'Custom domains of tenants, and the on-demand TLS check' },
        { name: 'edge', description: 'The Caddyfile tenantd renders, and Caddy' },
        { name: 'backups', description: 'Encrypted, verified backups of tenant databases, and restore' },
        { name: 'plans', description: 'Plans: limits and backup policy' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(errorHandler)
  await app.register(authPlugin)
  await app.register(tenantResolverPlugin)

  await app.register(healthRoutes)
  await app.register(authRoutes)
  await app.register(userRoutes)
  await app.register(auditRoutes)
  await app.register(tenantAdminRoutes)
  await app.register(operationRoutes)
  await app.register(operatorRoutes)
  await app.register(hostRoutes)
  await app.register(moduleAdminRoutes)
  await app.register(migrationRoutes)
  await app.register(tenantUpdateRoutes)
  await app.register(domainRoutes)
  await app.register(caddyAskRoutes)
  fastAsk = caddyAskFastPath(tenantd.config.trustedProxies, (domain) => app.tenantResolver.addressOf(domain))
  await app.register(edgeRoutes)
  await app.register(backupRoutes)
  await app.register(backupPruneRoutes)
  await app.register(backupScheduleRoutes)
  await app.register(planRoutes)
  await app.register(exportRoutes)
  await app.register(keyRoutes)
  await app.register(credentialRoutes)
  await app.register(moveRoutes)
  await app.register(brandingRoutes)
  await app.register(sizeHistoryRoutes)
  await app.register(moduleRoutesPlugin)
  await app.register(panelRoutes)
  return app as unknown as FastifyInstance
}

/** Where in a parsed request a NUL character is (e.g. "body.name"), if anywhere. */
function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (depth > 8 || value === null || typeof value !== 'object') return undefined
  for (const [key, inner] of Object.entries(value)) {
    const found = key.includes('\u0000') ? path : nulPath(inner, `${path}.${key}`, depth + 1)
    if (found) return found
  }
  return undefined
}
