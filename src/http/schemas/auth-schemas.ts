import { Type, type Static } from 'typebox'
import { Nullable } from './common-schemas.js'


export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320, description: 'Operator email, or a tenant user email on the tenant\'s host' }),
    password: Type.String({ minLength: 1, maxLength: 1024, writeOnly: true }),
  },
  { additionalProperties: false }
)
export type LoginBodyType = Static<typeof LoginBody>

export const RefreshTokenBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 200, description: 'From login or the last refresh' }) },
  { additionalProperties: false }
)
export type RefreshTokenBodyType = Static<typeof RefreshTokenBody>

export const SessionUserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Type.String({ description: 'super_admin | tenant_admin (operators), admin | member (tenant users)' }),
    tenantId: Nullable(Type.String({ format: 'uuid' })),
  }
)

export const TokenPairSchema = Type.Object(
  {
    accessToken: Type.String({ description: 'JWT (HS256); send as "Authorization: Bearer <token>"' }),
    refreshToken: Type.String({ description: 'Opaque, single use: each refresh spends it and returns a new one' }),
    expiresIn: Type.Integer({ description: 'Access token lifetime in seconds' }),
    user: SessionUserSchema,
  }
)

export const MeSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('operator'), Type.Literal('tenant_user')]),
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    tenantId: Nullable(Type.String({ format: 'uuid' })),
    permissions: Type.Array(Type.String(), { description: 'Module permissions of a tenant user; empty for operators' }),
  }
)

export const TenantUserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
    permissions: Type.Array(Type.String()),
    active: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  }
)

export const CreateUserBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    password: Type.String({ minLength: 8, maxLength: 256, writeOnly: true }),
    role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('member')], { default: 'member' })),
    permissions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { maxItems: 100, description: 'Module permissions, e.g. ["crm"]' })),
  },
  { additionalProperties: false }
)
export type CreateUserBodyType = Static<typeof CreateUserBody>

export const AuditQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug; forced to your own tenant unless you are a super-admin' })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. login.failed, cross_tenant_access_blocked' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false }
)
export type AuditQueryType = Static<typeof AuditQuery>

export const AuditRecordSchema = Type.Object(
  {
    id: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    actorType: Type.String(),
    actorId: Nullable(Type.String()),
    actorEmail: Nullable(Type.String()),
    tenantId: Nullable(Type.String()),
    action: Type.String(),
    target: Nullable(Type.String()),
    ip: Nullable(Type.String()),
    details: Type.Unknown(),
  }
)
