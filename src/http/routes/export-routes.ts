import type { FastifyInstance } from 'fastify'
import { ValidationError } from '../../errors.js'
import { assertCanAdministerTenant, requirePrincipal, requireSuperAdmin } from '../guards.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'
import { ExportDocumentSchema, ExportQuery, ImportBody, ImportQuery, ImportResultSchema, type ExportQueryType, type ImportQueryType } from '../schemas/export-schemas.js'

/**
 * JSON export and import of a tenant (runbook 002, "Export Data"). Both bodies are streams:
 * the export is written as it is read, the import is read as it arrives. Not wrapped in
 * fastify-plugin on purpose: the pass-through JSON parser below applies to these routes only.
 */
export async function exportRoutes(app: FastifyInstance): Promise<void> {
  const { tenants, tenantExports, audit } = app.tenantd

  // The import body may be gigabytes: the route reads request.raw itself, so the JSON parser
  // of this context reads nothing (and the app's body limit does not apply).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', (_request, _payload, done) => done(null, {}))

  app.get(
    '/api/tenants/export',
    {
      schema: {
        tags: ['backups'],
        summary: "Export a tenant as JSON, streamed: tenant record without credentials, modules, migrations, every table's rows in dependency order (runbook 002)",
        description: 'Super-admins export any tenant; a tenant admin only its own. The document ends with a trailer (row counts, SHA-256) so an import can tell it is whole.',
        querystring: ExportQuery,
        response: { 200: ExportDocumentSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request)
      const key = (request.query as ExportQueryType).tenantId ?? principal.tenantId
      if (!key) throw new ValidationError('querystring.tenantId is required: the id or slug of the tenant to export')
      const tenant = await tenants.get(key)
      assertCanAdministerTenant(request, tenant.id)
      const actor = { actorType: principal.kind, actorId: principal.id, actorEmail: principal.email, ip: request.ip }
      const { stream, filename } = await tenantExports.exportTenant(tenant, (outcome) => {
        audit
          .record({ ...actor, tenantId: tenant.id, action: 'tenant.export', target: tenant.slug, details: { rows: outcome.rows, complete: outcome.ok } })
          .catch((error: Error) => request.log.warn({ err: { message: error.message } }, 'could not record the export in the audit log'))
      })
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('cache-control', 'no-store')
        .send(stream)
    }
  )

  app.post(
    '/api/admin/tenants/restore',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: 'Import a JSON export as a new tenant: provisioned the normal way, then every row loaded; also from another tenantd (runbook 002)',
        description:
          'The body is the export as is (Content-Type: application/json), read as a stream. A document that is not an export, of another version, truncated or damaged is refused (400) before anything is created; one made by newer code (409); a taken slug (409). Give ?slug=&subdomain= to import next to the original.',
        querystring: ImportQuery,
        body: ImportBody,
        response: { 201: ImportResultSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const query = request.query as ImportQueryType
      const result = await tenantExports.importTenant(request.raw, query, request.principal?.id)
      return reply.status(201).send(result)
    }
  )
}
