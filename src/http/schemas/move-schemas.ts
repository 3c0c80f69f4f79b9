import { Type, type Static } from 'typebox'
import { Nullable, StringEnum } from './common-schemas.js'

export const MoveBody = Type.Object(
  {
    targetHostId: Type.String({ minLength: 1, maxLength: 100, description: 'db host id or name the tenant moves to (`tenantctl hosts list`)' }),
  },
  { additionalProperties: false }
)
export type MoveBodyType = Static<typeof MoveBody>

export const MoveSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    tenantId: Type.String({ format: 'uuid' }),
    operationId: Nullable(Type.String()),
    sourceHostId: Type.String(),
    targetHostId: Type.String(),
    method: StringEnum(['logical', 'frozen-copy'] as const, {
      description: 'logical: copied while writable, changes made meanwhile captured by logical decoding and applied under a short freeze; frozen-copy: the host allows no logical decoding, everything copied under the freeze',
    }),
    methodReason: Nullable(Type.String({ description: 'Why that method (what the source host allows)' })),
    keptDatabase: Type.String({ description: 'The source database, renamed and closed to connections, kept for rollback' }),
    state: StringEnum(['kept', 'rolled_back', 'dropped'] as const),
    movedAt: Type.String({ format: 'date-time' }),
    freezeMs: Nullable(Type.Integer({ description: 'How long writes were frozen (503 + Retry-After)' })),
    rollbackUntil: Type.String({ format: 'date-time', description: 'Until when `move --rollback` works (TENANTD_MOVE_KEEP_HOURS)' }),
    droppedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'TenantMove' }
)
