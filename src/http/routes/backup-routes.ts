import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OperationFailed } from '../../errors.js'
import { assertCanAdministerTenant, requireOperator, requireSuperAdmin } from '../guards.js'
import { BackupParams, BackupSchema, ListBackupsQuery, RestoreBody, RestoreListItemSchema, RestoreRecordSchema, type RestoreBodyType } from '../schemas/backup-schemas.js'
import { ErrorSchema, errorResponses, IdParams } from '../schemas/common-schemas.js'
import { OperationSchema, TenantSchema, WaitQuery } from '../schemas/tenant-schemas.js'

/** Backups of one tenant database (issue 8): back up now, list, show, verify, restore. */
export async function backupRoutes(app: FastifyInstance): Promise<void> {
  const { backups, operations, audit } = app.tenantd

  const actor = (request: FastifyRequest) => ({ actorType: 'operator' as const, actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip })
  const failed = (operationId: string, done: { status: string; step: string | null; error: string | null }) =>
    new OperationFailed(`operation ${operationId} ${done.status} at step ${done.step ?? '?'}: ${done.error ?? 'no error recorded'}. Fix the cause, then \`tenantctl ops retry ${operationId}\`.`)

  app.post(
    '/api/admin/tenants/:id/backups',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: 'Back up a tenant database now: pg_dump, encrypted, stored, read back and verified',
        params: IdParams,
        querystring: WaitQuery,
        response: {
          201: Type.Object({ backup: BackupSchema, operation: OperationSchema }),
          202: Type.Object({ backup: BackupSchema, operationId: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { tenant, backup, operation } = await backups.requestBackup((request.params as { id: string }).id, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'backup.run', target: tenant.slug, details: { backupId: backup.id, operationId: operation.id } })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const done = await operations.ended(run)
        if (done.status !== 'succeeded') throw failed(operation.id, done)
        return reply.status(201).send({ backup: backups.toApi((await backups.get(tenant.id, backup.id)).backup), operation: done })
      }
      run.catch((error) => request.log.error({ err: error }, 'backup operation crashed'))
      return reply.status(202).send({ backup: backups.toApi(backup), operationId: operation.id })
    }
  )

  app.get(
    '/api/admin/tenants/:id/backups',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['backups'],
        summary: 'Backups of a tenant, newest first, with size, checksum and state',
        params: IdParams,
        querystring: ListBackupsQuery,
        response: { 200: Type.Object({ items: Type.Array(BackupSchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const { limit = 50, offset = 0 } = request.query as { limit?: number; offset?: number }
      const { tenant, items, total } = await backups.list((request.params as { id: string }).id, limit, offset)
      assertCanAdministerTenant(request, tenant.id)
      return { items: items.map((row) => backups.toApi(row)), total, limit, offset }
    }
  )

  app.get(
    '/api/admin/tenants/:id/backups/:backupId',
    { preHandler: requireOperator, schema: { tags: ['backups'], summary: 'One backup', params: BackupParams, response: { 200: BackupSchema, ...errorResponses } } },
    async (request) => {
      const { id, backupId } = request.params as { id: string; backupId: string }
      const { tenant, backup } = await backups.get(id, backupId)
      assertCanAdministerTenant(request, tenant.id)
      return backups.toApi(backup)
    }
  )

  app.post(
    '/api/admin/tenants/:id/backups/:backupId/verify',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: 'Read a backup back and check it again: checksum, decryption of every record, pg_restore --list. A damaged file is marked failed.',
        params: BackupParams,
        response: { 200: Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()), backup: BackupSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const { id, backupId } = request.params as { id: string; backupId: string }
      const { tenant, backup, result } = await backups.verify(id, backupId)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'backup.verify', target: tenant.slug, details: { backupId, ok: result.ok, ...(result.ok ? {} : { reason: result.reason }) } })
      return { ok: result.ok, ...(result.ok ? {} : { reason: result.reason }), backup: backups.toApi(backup) }
    }
  )

  app.post(
    '/api/admin/tenants/:id/restore',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary:
          'Restore a verified backup into a new database, compare row counts, then swap it in; the previous database is kept (renamed). ' +
          'With asNewTenant: provision a new tenant (own role, database and password) filled from the backup instead (a clone).',
        params: IdParams,
        body: RestoreBody,
        querystring: WaitQuery,
        response: {
          200: Type.Object({ operation: OperationSchema, restore: RestoreRecordSchema }),
          201: Type.Object({ tenant: TenantSchema, operation: OperationSchema }),
          202: Type.Object({ operationId: Type.String(), backupId: Type.String(), tenant: Type.Optional(TenantSchema) }),
          ...errorResponses,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { backupId, asNewTenant } = request.body as RestoreBodyType
      if (asNewTenant) {
        const { provisioner, tenants } = app.tenantd
        const started = await provisioner.requestClone((request.params as { id: string }).id, backupId, asNewTenant, request.principal?.id)
        const { tenant, operation } = started
        await audit.record({
          ...actor(request),
          tenantId: tenant.id,
          action: 'tenant.clone',
          target: tenant.slug,
          details: { sourceTenantId: started.source.id, source: started.source.slug, backupId: started.backup.id, plan: tenant.plan_id, host: tenant.host_name, operationId: operation.id },
        })
        const cloned = operations.execute(operation.id)
        if ((request.query as { wait?: boolean }).wait) {
          const done = await operations.ended(cloned)
          if (done.status !== 'succeeded') {
            const rolledBack = (await tenants.get(tenant.id).catch(() => null)) === null
            if (!rolledBack) throw failed(operation.id, done)
            throw new OperationFailed(`clone ${tenant.slug} failed at step ${done.step ?? '?'}: ${done.error ?? 'no error recorded'}. It was rolled back: no role or database is left and the slug is free.`)
          }
          return reply.status(201).send({ tenant: tenants.toApi(await tenants.get(tenant.id)), operation: done })
        }
        cloned.catch((error) => request.log.error({ err: error }, 'clone operation crashed'))
        return reply.status(202).send({ tenant: tenants.toApi(tenant), operationId: operation.id, backupId: started.backup.id })
      }
      const { tenant, backup, operation } = await backups.requestRestore((request.params as { id: string }).id, backupId, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'backup.restore', target: tenant.slug, details: { backupId: backup.id, operationId: operation.id } })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const done = await operations.ended(run)
        if (done.status !== 'succeeded') throw failed(operation.id, done)
        const restore = (await backups.restores(tenant.id)).find((r) => r.operation_id === operation.id)!
        return reply.status(200).send({
          operation: done,
          restore: { backupId: restore.backup_id, database: restore.database_name, previousDatabase: restore.previous_database, restoredAt: new Date(restore.restored_at).toISOString() },
        })
      }
      run.catch((error) => request.log.error({ err: error }, 'restore operation crashed'))
      return reply.status(202).send({ operationId: operation.id, backupId: backup.id })
    }
  )

  app.get(
    '/api/admin/tenants/:id/restores',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['backups'],
        summary: "A tenant's restores, newest first: which backup, the database kept for undo and until when, and whether the last one can still be undone",
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(RestoreListItemSchema), keepHours: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const tenant = await app.tenantd.tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      const keepHours = app.tenantd.config.restoreKeepHours
      const rows = await backups.restores(tenant.id)
      return {
        keepHours,
        items: rows.map((row, index) => ({
          id: row.id,
          backupId: row.backup_id,
          operationId: row.operation_id,
          database: row.database_name,
          previousDatabase: row.previous_database,
          restoredAt: new Date(row.restored_at).toISOString(),
          keptUntil: new Date(new Date(row.restored_at).getTime() + keepHours * 3_600_000).toISOString(),
          previousDroppedAt: row.previous_dropped_at ? new Date(row.previous_dropped_at).toISOString() : null,
          undoable: index === 0 && row.previous_dropped_at === null,
        })),
      }
    }
  )

  app.post(
    '/api/admin/tenants/:id/restore/undo',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: 'Undo the last restore: swap the kept previous database back in (the one in use is kept in its place). 409 when it was dropped (TENANTD_RESTORE_KEEP_HOURS).',
        params: IdParams,
        querystring: WaitQuery,
        response: {
          200: Type.Object({ operation: OperationSchema, restore: RestoreRecordSchema }),
          202: Type.Object({ operationId: Type.String(), restoreId: Type.String() }),
          ...errorResponses,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { tenant, restore, operation } = await backups.requestUndo((request.params as { id: string }).id, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'backup.restore_undo', target: tenant.slug, details: { restoreId: restore.id, operationId: operation.id } })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const done = await operations.ended(run)
        if (done.status !== 'succeeded') throw failed(operation.id, done)
        const row = (await backups.restores(tenant.id)).find((r) => r.id === restore.id)!
        return reply.status(200).send({
          operation: done,
          restore: { backupId: row.backup_id, database: row.database_name, previousDatabase: row.previous_database, restoredAt: new Date(row.restored_at).toISOString() },
        })
      }
      run.catch((error) => request.log.error({ err: error }, 'restore undo operation crashed'))
      return reply.status(202).send({ operationId: operation.id, restoreId: restore.id })
    }
  )
}
