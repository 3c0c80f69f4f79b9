import { Type, type Static, type TSchema, type TUnsafe } from 'typebox'

export const ErrorSchema = Type.Object(
  { error: Type.String({ description: 'Machine-readable code, e.g. TenantNotFound' }), message: Type.String({ description: 'What happened and what to do' }) },
  { $id: 'Error', description: 'Every error reply' }
)

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug' }) })
export type IdParamsType = Static<typeof IdParams>

export const Pagination = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
}

/** Standard error responses for OpenAPI. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
}

/** A string enum ajv reports as "must be equal to one of the allowed values: a, b" (a Union of Literals reports noise). */
export function StringEnum<T extends string>(values: readonly T[], options: { description?: string } = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })
}

/**
 * A value that may also be null (to clear it). A type list, not anyOf, so ajv reports
 * one plain message ("must be string,null") instead of one per branch.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const type = (schema as { type?: string }).type
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] })
}
