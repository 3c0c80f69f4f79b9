import { Type, type Static } from 'typebox'
import { Nullable, StringEnum } from './common-schemas.js'

export const DomainStatusSchema = StringEnum(['pending', 'verified'] as const)

export const TenantDomainSchema = Type.Object(
  {
    domain: Type.String({ description: 'Lower case, no trailing dot' }),
    status: DomainStatusSchema,
    verifiedAt: Nullable(Type.String({ format: 'date-time' })),
    lastCheckedAt: Nullable(Type.String({ format: 'date-time' })),
    lastError: Nullable(Type.String({ description: 'What the last failed verification saw' })),
    createdAt: Type.String({ format: 'date-time' }),
    verification: Type.Object(
      {
        url: Type.String({ description: 'What tenantd fetches to verify the domain' }),
        path: Type.String({ description: 'Served by tenantd itself on this domain once DNS points at the edge' }),
        expectedBody: Type.String({ description: 'The body that URL must answer with (200, text/plain)' }),
      },
      { description: 'How verification works: point the domain at the edge; tenantd serves this path and fetches it' }
    ),
  },
  { $id: 'TenantDomain' }
)
export type TenantDomainType = Static<typeof TenantDomainSchema>

export const AddDomainBody = Type.Object(
  { domain: Type.String({ minLength: 1, maxLength: 300, description: 'e.g. shop.example.com (ASCII; unicode names in their xn-- form)' }) },
  { additionalProperties: false }
)
export type AddDomainBodyType = Static<typeof AddDomainBody>

export const AddDomainReply = Type.Object({
  domain: TenantDomainSchema,
  instructions: Type.String({ description: 'What to do next, for people' }),
})

export const DomainParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or slug' }),
  domain: Type.String({ minLength: 1, maxLength: 300 }),
})
export type DomainParamsType = Static<typeof DomainParams>

export const WellKnownParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) })
export type WellKnownParamsType = Static<typeof WellKnownParams>

export const AskQuery = Type.Object({ domain: Type.Optional(Type.String({ description: 'The name Caddy is about to get a certificate for' })) })

export const AskReply = Type.Object({ domain: Type.String(), allowed: Type.Literal(true) })
