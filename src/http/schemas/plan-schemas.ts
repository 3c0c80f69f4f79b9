import { Type } from 'typebox'
import { Nullable } from './common-schemas.js'

export const PlanSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    maxConnections: Type.Integer({ description: "CONNECTION LIMIT of each tenant's role" }),
    poolSize: Type.Integer({ description: 'Connections one tenantd process keeps per tenant' }),
    maxUsers: Nullable(Type.Integer()),
    storageMb: Nullable(Type.Integer()),
    apiCallsPerMonth: Nullable(Type.Integer()),
    tenantCount: Type.Integer(),
    credentialRotationDays: Nullable(Type.Integer({ description: "Tenants' database credentials rotate every N days; null: never" })),
    backup: Type.Object({
      schedule: Nullable(Type.String({ description: 'Cron expression; null: TENANTD_BACKUP_SCHEDULE' })),
      retentionDays: Type.Integer({ description: 'Backups younger than this are always kept' }),
      keepDaily: Type.Integer({ description: 'Newest verified backup of each of the last N days kept' }),
      keepWeekly: Type.Integer({ description: '... of each of the last N ISO weeks' }),
      keepMonthly: Type.Integer({ description: '... of each of the last N months' }),
    }),
  },
  { $id: 'Plan' }
)

const limit = (description: string) => Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 2_000_000_000, description })))

export const UpdatePlanBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    maxUsers: limit('Users a tenant may have; null: unlimited'),
    storageMb: limit('Database size a tenant may reach; null: unlimited'),
    apiCallsPerMonth: limit('null: unlimited'),
    backupSchedule: Type.Optional(
      Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'Cron expression, five fields (minute hour day month weekday), e.g. "0 3 * * *"; null: the default schedule' }))
    ),
    backupRetentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    backupKeepDaily: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    backupKeepWeekly: Type.Optional(Type.Integer({ minimum: 0, maximum: 520 })),
    backupKeepMonthly: Type.Optional(Type.Integer({ minimum: 0, maximum: 1200 })),
    credentialRotationDays: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3650, description: 'Rotate tenants\' database credentials every N days; null: never' }))),
  },
  { additionalProperties: false, minProperties: 1 }
)
