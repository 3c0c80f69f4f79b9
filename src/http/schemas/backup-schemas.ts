import { Type, type Static } from 'typebox'
import { Nullable, StringEnum } from './common-schemas.js'

export const BackupStateSchema = StringEnum(['running', 'completed', 'verified', 'failed', 'pruned'] as const, {
  description: 'running: being written; completed: stored, not yet verified; verified: read back, checksum, decryption and pg_restore --list passed (only these restore); failed: see error; pruned: file deleted by retention',
})

export const BackupSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    tenantId: Type.String({ format: 'uuid' }),
    state: BackupStateSchema,
    hostId: Type.String(),
    database: Type.String({ description: 'The tenant database that was dumped' }),
    storageTarget: Type.String({ description: 'file:///dir or s3://bucket/prefix' }),
    storageKey: Type.String({ description: 'Object key (file path) under the target' }),
    sizeBytes: Nullable(Type.Integer({ description: 'Bytes stored: header and encrypted records' })),
    sha256: Nullable(Type.String({ description: 'SHA-256 (hex) of the stored bytes, exactly as in storage' })),
    dumpBytes: Nullable(Type.Integer({ description: 'Bytes of the pg_dump -Fc output before encryption' })),
    serverVersion: Nullable(Type.String()),
    pgDumpVersion: Nullable(Type.String()),
    tenantdVersion: Type.String(),
    rowCounts: Nullable(Type.Record(Type.String(), Type.Integer(), { description: 'Rows per table ("schema.table") in the snapshot the dump was taken from' })),
    migrations: Nullable(Type.Array(Type.Object({ scope: Type.String(), name: Type.String() }), { description: 'tenant_migrations of the database: base and modules' })),
    error: Nullable(Type.String()),
    operationId: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    completedAt: Nullable(Type.String({ format: 'date-time' })),
    verifiedAt: Nullable(Type.String({ format: 'date-time' })),
    reason: Type.Union([Type.Literal('manual'), Type.Literal('scheduled'), Type.Literal('final')], { description: 'Asked for, taken by the schedule, or the final one before a hard delete' }),
    slotAt: Nullable(Type.String({ format: 'date-time', description: 'The scheduled slot a scheduled backup belongs to' })),
    testRestoredAt: Nullable(Type.String({ format: 'date-time', description: 'Last restore into a scratch database with row counts compared' })),
    testRestoreError: Nullable(Type.String()),
    prunedAt: Nullable(Type.String({ format: 'date-time', description: 'When retention deleted the file' })),
  },
  { $id: 'Backup' }
)
export type Backup = Static<typeof BackupSchema>

export const BackupParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug' }),
  backupId: Type.String({ minLength: 1, maxLength: 100, description: 'Backup id' }),
})

export const ListBackupsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
})

/** Restore as a new tenant (a clone, e.g. a staging copy) instead of over this one. */
export const CloneTarget = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 100, description: 'The new tenant\'s slug (same rules as provisioning)' }),
    subdomain: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Defaults to the slug' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Defaults to "<source name> (copy)"' })),
  },
  { additionalProperties: false }
)

export const RestoreBody = Type.Object(
  {
    backupId: Type.String({ minLength: 1, maxLength: 100, description: 'A verified backup of this tenant' }),
    asNewTenant: Type.Optional(CloneTarget),
  },
  { additionalProperties: false }
)
export type RestoreBodyType = Static<typeof RestoreBody>

/** A restore that swapped a database in; the previous database is kept for undo. */
export const RestoreRecordSchema = Type.Object({
  backupId: Type.String(),
  database: Type.String(),
  previousDatabase: Type.String({ description: 'The database the tenant used before, renamed and kept for undo' }),
  restoredAt: Type.String({ format: 'date-time' }),
})
export type RestoreRecord = Static<typeof RestoreRecordSchema>

export const RestoreListItemSchema = Type.Object({
  id: Type.String(),
  backupId: Type.String(),
  operationId: Type.Union([Type.String(), Type.Null()]),
  database: Type.String({ description: 'The database swapped in' }),
  previousDatabase: Type.String({ description: 'The database used before, kept for undo until keptUntil' }),
  restoredAt: Type.String({ format: 'date-time' }),
  keptUntil: Type.String({ format: 'date-time', description: 'When the kept database is dropped (TENANTD_RESTORE_KEEP_HOURS after the restore)' }),
  previousDroppedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  undoable: Type.Boolean({ description: 'The last restore, its kept database still there: POST .../restore/undo swaps it back' }),
})
