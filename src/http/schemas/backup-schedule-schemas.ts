import { Type } from 'typebox'
import { Nullable } from './common-schemas.js'

export const BackupScheduleSchema = Type.Object(
  {
    schedules: Type.Array(
      Type.Object({
        cron: Type.String({ description: 'Cron expression (minute hour day month weekday)' }),
        plans: Type.Array(Type.String(), { description: 'Plans whose tenants this schedule backs up' }),
        nextRunAt: Nullable(Type.String({ format: 'date-time' })),
      })
    ),
    timezone: Type.String(),
    concurrency: Type.Integer({ description: 'Scheduled backups at once, all hosts together' }),
    hostConcurrency: Type.Integer({ description: 'Scheduled backups at once on one db host' }),
    recentSlots: Type.Array(
      Type.Object({
        schedule: Type.String(),
        slotAt: Type.String({ format: 'date-time' }),
        claimedBy: Type.String({ description: 'The replica that ran it' }),
        tenants: Type.Integer(),
        failed: Type.Integer({ description: 'Tenants whose backup kept failing' }),
        finishedAt: Nullable(Type.String({ format: 'date-time' })),
      })
    ),
  },
  { $id: 'BackupSchedule' }
)

export const SlotResultSchema = Type.Object({
  schedule: Type.String(),
  slotAt: Type.String({ format: 'date-time' }),
  tenants: Type.Integer(),
  backedUp: Type.Integer(),
  failed: Type.Array(Type.Object({ tenant: Type.String(), error: Type.String() })),
  testRestored: Type.Integer(),
})
