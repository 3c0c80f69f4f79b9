import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Forbidden, ModuleNotInstalled } from '../../errors.js'
import type { ModuleDefinition } from '../../modules/module-definition.js'
import { requirePrincipal } from '../guards.js'
import { tenantOf } from './tenant-resolver-plugin.js'

/**
 * Mounts every module's routes under `/api/<name>/`. Each request resolves its tenant,
 * then must find the module installed for that tenant (else 404 ModuleNotInstalled) and a
 * caller allowed to use it: a tenant admin, a tenant user holding the module's permission,
 * or an operator of that tenant.
 */
export const moduleRoutesPlugin = fp(
  async (app: FastifyInstance) => {
    for (const module of app.tenantd.modules.list()) {
      await app.register(
        async (scope) => {
          scope.addHook('preHandler', app.resolveTenant)
          scope.addHook('preHandler', async (request) => assertModuleAccess(request, module))
          await scope.register(module.routes)
        },
        { prefix: `/api/${module.name}` }
      )
    }
  },
  { name: 'module-routes', dependencies: ['tenant-resolver'] }
)

function assertModuleAccess(request: FastifyRequest, module: ModuleDefinition): void {
  const tenant = tenantOf(request)
  if (!tenant.modules.includes(module.name)) throw new ModuleNotInstalled(module.name, tenant.slug, `${tenant.slug} ${module.name}`)
  const principal = requirePrincipal(request)
  if (principal.kind === 'operator') {
    if (principal.role === 'super_admin' || principal.tenantId === tenant.id) return
  } else if (principal.tenantId === tenant.id && (principal.role === 'admin' || principal.permissions.includes(module.name))) {
    return
  }
  throw new Forbidden(`You need the "${module.name}" permission to use this module; a tenant admin can grant it.`)
}
