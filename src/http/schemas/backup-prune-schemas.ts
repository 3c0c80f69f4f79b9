import { Type, type Static } from 'typebox'
import { BackupStateSchema } from './backup-schemas.js'
import { Nullable } from './common-schemas.js'

export const PruneBackupsBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug; every tenant when absent' })),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Show what would be pruned; delete nothing' })),
  },
  { additionalProperties: false }
)
export type PruneBackupsBodyType = Static<typeof PruneBackupsBody>

export const PrunedBackupSchema = Type.Object({
  backupId: Type.String({ format: 'uuid' }),
  tenantId: Type.String({ format: 'uuid' }),
  tenantSlug: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  state: BackupStateSchema,
  sizeBytes: Nullable(Type.Integer({ description: 'Bytes of the stored file' })),
  reason: Type.String({ description: 'Why retention lets it go, e.g. "older than 30 days; a newer verified backup is kept for its month 2025-02"' }),
})

export const PruneBackupsReply = Type.Object({
  dryRun: Type.Boolean(),
  items: Type.Array(PrunedBackupSchema, { description: 'By tenant slug, newest first; the state is the one before pruning' }),
  prunedCount: Type.Integer({ description: 'Backups pruned (dry run: that would be)' }),
  freedBytes: Type.Integer({ description: 'Bytes of files deleted (dry run: that would be)' }),
})
export type PruneBackupsReplyType = Static<typeof PruneBackupsReply>
