import { Type, type Static } from 'typebox'
import { TenantSchema } from './tenant-schemas.js'

export const ExportQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug; a tenant admin may leave it out (their own tenant)' })),
})
export type ExportQueryType = Static<typeof ExportQuery>

/** The streamed document, described for OpenAPI only (a stream is never serialized or validated). */
export const ExportDocumentSchema = Type.Object(
  {
    format: Type.Literal('tenantd-export'),
    version: Type.Literal(1),
    exportedAt: Type.String({ format: 'date-time' }),
    tenant: Type.Object({
      slug: Type.String(),
      subdomain: Type.String(),
      name: Type.String(),
      contactEmail: Type.String(),
      plan: Type.String(),
      status: Type.String(),
      modules: Type.Array(Type.String()),
    }),
    migrations: Type.Array(Type.Object({ scope: Type.String(), name: Type.String(), checksum: Type.String() })),
    tables: Type.Array(
      Type.Object({
        name: Type.String({ description: '"public.<table>", in foreign-key dependency order' }),
        columns: Type.Array(Type.String()),
        types: Type.Array(Type.String()),
        rows: Type.Array(Type.Array(Type.Union([Type.String(), Type.Null()])), { description: "Each value in PostgreSQL's text form, or null" }),
      })
    ),
    sequences: Type.Array(Type.Object({ name: Type.String(), lastValue: Type.String(), isCalled: Type.Boolean() })),
    trailer: Type.Object({
      rows: Type.Record(Type.String(), Type.Integer(), { description: 'Rows per table' }),
      sha256: Type.String({ description: 'SHA-256 of the content before the trailer, whitespace outside strings left out' }),
    }),
  },
  {
    $id: 'TenantExport',
    description:
      'A tenant as JSON, streamed: public tenant fields (no credentials), applied migrations, every table\'s rows from one snapshot, sequences, and a trailer (row counts, SHA-256) that shows it arrived whole.',
  }
)

export const ImportQuery = Type.Object({
  slug: Type.Optional(Type.String({ maxLength: 100, description: "The new tenant's slug; the export's when omitted" })),
  subdomain: Type.Optional(Type.String({ maxLength: 100, description: "The new tenant's subdomain; the new slug when only slug is given, else the export's" })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Display name; the export's when omitted" })),
  plan: Type.Optional(Type.String({ maxLength: 100, description: "Plan; the export's when omitted" })),
})
export type ImportQueryType = Static<typeof ImportQuery>

/** The request body of an import, documented; the route reads it as a stream (no validation here). */
export const ImportBody = Type.Object({}, { additionalProperties: true, description: 'A tenantd export document (GET /api/tenants/export), sent as is, streamed' })

export const ImportResultSchema = Type.Object({
  tenant: TenantSchema,
  operationId: Type.String({ description: 'The provision operation of the new tenant' }),
  tables: Type.Array(Type.Object({ name: Type.String(), rows: Type.Integer() })),
  rows: Type.Integer(),
  bytes: Type.Integer({ description: 'Size of the document read' }),
})
