import { Type, type Static } from 'typebox'
import { OperationSchema } from './tenant-schemas.js'

const counts = {
  tenantPasswords: Type.Integer({ description: 'Tenant role passwords (and pending ones of a credential rotation)' }),
  hostPasswords: Type.Integer({ description: 'Db host admin passwords' }),
  backupKeys: Type.Integer({ description: "Backup data keys (the catalog's copies)" }),
  otherSecrets: Type.Integer({ description: 'Sealed values of other catalog columns' }),
}

export const KeyUsageSchema = Type.Object({
  keyId: Type.String(),
  inKeyring: Type.Boolean({ description: 'false: TENANTD_MASTER_KEY lacks this id, and what it sealed cannot be opened' }),
  active: Type.Boolean({ description: 'The first key of the keyring: new secrets are sealed by it' }),
  ...counts,
  total: Type.Integer(),
})

export const KeyStatusSchema = Type.Object({
  activeKeyId: Type.String(),
  keyIds: Type.Array(Type.String(), { description: 'The keyring, active first (ids only, never keys)' }),
  keys: Type.Array(KeyUsageSchema, { description: 'The keyring, then ids the catalog still uses that the keyring lacks' }),
  unrecordedBackupKeys: Type.Integer({ description: 'Backups from before key rotation existed whose data key a rotation has yet to record' }),
  removableKeyIds: Type.Array(Type.String(), { description: 'Old key ids that seal nothing any more: remove them from the keyring, then restart' }),
})
export type KeyStatusType = Static<typeof KeyStatusSchema>

export const RotateKeysQuery = Type.Object(
  {
    wait: Type.Optional(Type.Boolean({ description: 'Answer 200 with the counts when the rotation has finished' })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'Secrets re-sealed per transaction' })),
  },
  { additionalProperties: false }
)
export type RotateKeysQueryType = Static<typeof RotateKeysQuery>

export const RotationResultSchema = Type.Object({
  ...counts,
  unreadableBackups: Type.Integer({ description: 'Old backups whose file header could not be read (missing or damaged file)' }),
})

export const RotateKeysStarted = Type.Object({ operationId: Type.String() })

export const RotateKeysDone = Type.Object({
  operation: OperationSchema,
  resealed: RotationResultSchema,
  status: KeyStatusSchema,
})
