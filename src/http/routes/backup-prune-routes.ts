import type { FastifyInstance } from 'fastify'
import { requireSuperAdmin } from '../guards.js'
import { PruneBackupsBody, PruneBackupsReply, type PruneBackupsBodyType, type PruneBackupsReplyType } from '../schemas/backup-prune-schemas.js'
import { errorResponses } from '../schemas/common-schemas.js'

/** Backup retention (issue 8): prune what the plans' policies let go, or show it (dry run). */
export async function backupPruneRoutes(app: FastifyInstance): Promise<void> {
  const { backupPruner, tenants } = app.tenantd

  app.post(
    '/api/admin/backups/prune',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: "Apply the plans' retention (days, then newest verified per day, ISO week and month): delete the files and mark the backups pruned. Never a tenant's newest verified backup.",
        body: PruneBackupsBody,
        response: { 200: PruneBackupsReply, ...errorResponses },
      },
    },
    async (request): Promise<PruneBackupsReplyType> => {
      const { tenant: key, dryRun = false } = (request.body ?? {}) as PruneBackupsBodyType
      const tenantId = key === undefined ? undefined : (await tenants.get(key)).id
      const actor = { actorType: 'operator' as const, actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip }
      const result = await backupPruner.prune({ ...(tenantId ? { tenantId } : {}), dryRun, actor })
      return { ...result, items: result.items.map((item) => ({ ...item, createdAt: item.createdAt.toISOString() })) }
    }
  )
}
