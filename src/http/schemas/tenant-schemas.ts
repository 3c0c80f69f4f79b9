import { Type, type Static } from 'typebox'
import { Pagination, StringEnum, Nullable } from './common-schemas.js'


export const TenantStatusSchema = StringEnum(['provisioning', 'active', 'suspended', 'canceled', 'deleted', 'failed'] as const)
export const OperationStatusSchema = StringEnum(['pending', 'running', 'succeeded', 'failed', 'rolled_back'] as const)

export const TenantSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    subdomain: Type.String(),
    name: Type.String(),
    contactEmail: Type.String(),
    plan: Type.String(),
    status: TenantStatusSchema,
    statusReason: Nullable(Type.String()),
    hostId: Type.String(),
    hostName: Type.String(),
    database: Type.String(),
    retentionDays: Type.Integer(),
    canceledAt: Nullable(Type.String({ format: 'date-time' })),
    deletedAt: Nullable(Type.String({ format: 'date-time' })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Tenant' }
)

export const OperationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.String(),
    tenantId: Nullable(Type.String()),
    tenantSlug: Type.Optional(Nullable(Type.String())),
    status: OperationStatusSchema,
    step: Nullable(Type.String()),
    progress: Type.Integer({ minimum: 0, maximum: 100 }),
    error: Nullable(Type.String()),
    attempts: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Operation' }
)

const email = Type.String({ format: 'email', maxLength: 254 })

export const ProvisionTenantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Display name' }),
    contactEmail: Type.Optional(email),
    adminName: Type.Optional(Type.String({ maxLength: 200 })),
    adminEmail: Type.Optional(email),
    adminPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 256, description: 'Password of the tenant\'s first admin user (hashed with argon2id; never stored or logged in clear)' })),
    plan: Type.Optional(Type.String({ maxLength: 50, description: 'free, pro or enterprise' })),
    slug: Type.Optional(Type.String({ maxLength: 100, description: '3-40 lowercase letters, digits and hyphens; derived from name when omitted' })),
    subdomain: Type.Optional(Type.String({ maxLength: 100, description: 'Defaults to the slug' })),
    hostId: Type.Optional(Type.String({ maxLength: 100, description: 'db host id or name; placement chooses when omitted' })),
    retentionDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    modules: Type.Optional(Type.Array(Type.String({ maxLength: 60 }), { maxItems: 20, description: 'Modules to install right away, e.g. ["price-basket"]; dependencies are added' })),
  },
  { additionalProperties: false }
)
export type ProvisionTenantBodyType = Static<typeof ProvisionTenantBody>

export const WaitQuery = Type.Object({ wait: Type.Optional(Type.Boolean({ description: 'Answer when the operation has finished' })) })

export const TenantSortSchema = StringEnum(['created', 'name', 'slug', 'status', 'plan', 'host', 'lastBackup', 'size'] as const)

export const ListTenantsQuery = Type.Object(
  {
    status: Type.Optional(TenantStatusSchema),
    search: Type.Optional(Type.String({ maxLength: 200 })),
    plan: Type.Optional(Type.String({ maxLength: 50 })),
    sort: Type.Optional({ ...TenantSortSchema, description: 'order by this field (default created)' }),
    order: Type.Optional({ ...StringEnum(['asc', 'desc'] as const), description: 'default desc for created, lastBackup and size, asc otherwise' }),
    ...Pagination,
  },
  { additionalProperties: false }
)

/** A tenant as the list shows it: the record plus what an operator scans a fleet for. */
export const TenantListItemSchema = Type.Object({
  ...TenantSchema.properties,
  modules: Type.Array(Type.String(), { description: 'installed modules' }),
  sizeBytes: Nullable(Type.Integer({ description: 'database size at the newest sample (TENANTD_SIZE_SAMPLE_MINUTES); null before the first' })),
  lastBackup: Nullable(
    Type.Object({
      id: Type.String({ format: 'uuid' }),
      state: Type.String({ description: 'completed or verified' }),
      at: Type.String({ format: 'date-time', description: 'when it was taken' }),
      sizeBytes: Nullable(Type.Integer()),
    })
  ),
})

export const SuspendBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }), Type.Null()])
export const CancelBody = Type.Union([Type.Object({ retentionDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })) }, { additionalProperties: false }), Type.Null()])
export const DeleteBody = Type.Union([
  Type.Object(
    {
      hardDelete: Type.Optional(Type.Boolean()),
      force: Type.Optional(Type.Boolean()),
      skipFinalBackup: Type.Optional(Type.Boolean({ description: 'Hard delete without the final verified backup it otherwise takes first' })),
    },
    { additionalProperties: false }
  ),
  Type.Null(),
])
