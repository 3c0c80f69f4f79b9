import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OperationFailed } from '../../errors.js'
import { toOperation } from '../../operations/operation-runner.js'
import { assertCanAdministerTenant, requireOperator, requireSuperAdmin } from '../guards.js'
import { errorResponses, IdParams } from '../schemas/common-schemas.js'
import { OperationSchema, WaitQuery } from '../schemas/tenant-schemas.js'

const ModuleSchema = Type.Object(
  { name: Type.String(), version: Type.String(), description: Type.String(), dependencies: Type.Array(Type.String()), tables: Type.Array(Type.String()) },
  { $id: 'Module' }
)
const InstalledModuleSchema = Type.Object({ name: Type.String(), version: Type.String(), installedAt: Type.String(), updatedAt: Type.String() })
const ModuleParams = Type.Object({ id: Type.String({ maxLength: 100 }), name: Type.String({ maxLength: 60 }) })
const OperationReply = Type.Object({ operationId: Type.String(), operation: OperationSchema, modules: Type.Optional(Type.Array(Type.String())) })

/** Runbook 003's technical panel: which modules exist, which a tenant has, install/repair/uninstall. */
export async function moduleAdminRoutes(app: FastifyInstance): Promise<void> {
  const { modules, moduleService, operations, audit } = app.tenantd

  const actor = (request: FastifyRequest) => ({ actorType: 'operator' as const, actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip })

  /** Runs an operation; with ?wait=true answers when it ended (200, or the error if it failed). */
  const finish = async (request: FastifyRequest, operationId: string, extra: Record<string, unknown> = {}) => {
    const run = operations.execute(operationId)
    if ((request.query as { wait?: boolean }).wait) {
      const done = await operations.ended(run)
      if (done.status !== 'succeeded') {
        throw new OperationFailed(`operation ${operationId} ${done.status} at step ${done.step ?? '?'}: ${done.error ?? 'no error recorded'}. Fix the cause, then \`tenantctl ops retry ${operationId}\`.`)
      }
      return { status: 200, body: { operationId, operation: done, ...extra } }
    }
    run.catch((error) => request.log.error({ err: error }, 'module operation crashed'))
    return { status: 202, body: { operationId, operation: toOperation(await operations.get(operationId)), ...extra } }
  }

  app.get('/api/admin/modules', { preHandler: requireOperator, schema: { tags: ['modules'], summary: 'Modules this tenantd ships', response: { 200: Type.Object({ items: Type.Array(ModuleSchema) }), ...errorResponses } } }, async () => ({
    items: modules.list().map(({ name, version, description, dependencies, tables }) => ({ name, version, description, dependencies, tables })),
  }))

  app.get(
    '/api/admin/tenants/:id/modules',
    { preHandler: requireOperator, schema: { tags: ['modules'], summary: 'Modules installed for a tenant', params: IdParams, response: { 200: Type.Object({ items: Type.Array(InstalledModuleSchema) }), ...errorResponses } } },
    async (request) => {
      const tenant = await app.tenantd.tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      return { items: await moduleService.installed(tenant.id) }
    }
  )

  app.post(
    '/api/admin/tenants/:id/modules/:name',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['modules'],
        summary: 'Install a module (and its dependencies); on an installed module, repair missing tables without touching data (runbook 003)',
        params: ModuleParams,
        querystring: WaitQuery,
        response: { 200: OperationReply, 202: OperationReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params as { id: string; name: string }
      const { tenant, operation, order } = await moduleService.requestInstall(id, [name], request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'module.install', target: name, details: { order, operationId: operation.id } })
      const result = await finish(request, operation.id, { modules: order })
      return reply.status(result.status).send(result.body)
    }
  )

  app.delete(
    '/api/admin/tenants/:id/modules/:name',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['modules'],
        summary: 'Uninstall a module: its routes stop answering; its tables stay unless purge=true',
        params: ModuleParams,
        querystring: Type.Object({ purge: Type.Optional(Type.Boolean()), wait: Type.Optional(Type.Boolean()) }),
        response: { 200: OperationReply, 202: OperationReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params as { id: string; name: string }
      const purge = (request.query as { purge?: boolean }).purge === true
      const { tenant, operation } = await moduleService.requestUninstall(id, name, purge, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'module.uninstall', target: name, details: { purge, operationId: operation.id } })
      const result = await finish(request, operation.id)
      return reply.status(result.status).send(result.body)
    }
  )
}
