import { Type, type Static, type TSchema } from 'typebox'
import { Pagination, StringEnum } from '../../http/schemas/common-schemas.js'
import { leadStatuses } from './crm-tables.js'
import { Nullable } from '../../http/schemas/common-schemas.js'


const Id = (description: string) => Type.String({ format: 'uuid', description })
const Text = (maxLength: number, description: string) => Type.String({ maxLength, description })
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description })
const Email = (description: string) => Type.String({ format: 'email', maxLength: 320, description })
const Timestamp = Type.String({ format: 'date-time' })

export const IdParams = Type.Object({ id: Id('Record id (uuid)') }, { additionalProperties: false })

/** `{items, total, limit, offset}` of one page. */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ description: 'Matching records in all pages' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
  })

export type { Page } from '../module-sql.js'

const Search = (description: string) => Type.String({ maxLength: 200, description })

// ---------------------------------------------------------------- customers

export const CustomerSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  company: Type.Union([Type.String(), Type.Null()]),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Customer = Static<typeof CustomerSchema>

const customerFields = {
  email: Nullable(Email('Unique per tenant, compared case-insensitively; null clears it')),
  phone: Nullable(Text(50, 'Free-form phone number')),
  company: Nullable(Text(200, 'Company the customer works for')),
  notes: Nullable(Text(10_000, 'Free text')),
}

export const CreateCustomerBody = Type.Object({ name: Name('Full name'), ...Type.Partial(Type.Object(customerFields)).properties }, { additionalProperties: false })
export type CreateCustomerInput = Static<typeof CreateCustomerBody>

export const UpdateCustomerBody = Type.Object(
  { name: Type.Optional(Name('Full name')), ...Type.Partial(Type.Object(customerFields)).properties },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; null clears an optional field' }
)
export type UpdateCustomerInput = Static<typeof UpdateCustomerBody>

export const CustomerListQuery = Type.Object(
  { search: Type.Optional(Search('Matches name, email or company (case-insensitive substring)')), ...Pagination },
  { additionalProperties: false }
)
export type CustomerListQueryType = Static<typeof CustomerListQuery>

// ---------------------------------------------------------------- products

const DecimalInput = (description: string) =>
  Type.Unsafe<string | number>({ type: ['string', 'number'], description: `${description}. A JSON number or a decimal string, e.g. 10.5 or "10.50"` })

export const ProductSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  type: Type.String(),
  price: Type.String({ description: 'Decimal string with 2 places, e.g. "999.00" (exact; not a float)' }),
  currency: Type.String({ description: 'ISO 4217 code, e.g. BRL, USD' }),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Product = Static<typeof ProductSchema>

const productFields = {
  name: Name('Unique per tenant, compared case-insensitively'),
  type: Type.String({ minLength: 1, maxLength: 50, pattern: '\\S', description: 'Kind of product, e.g. course, service, subscription' }),
  price: DecimalInput('Price, >= 0, at most 2 decimals'),
  currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 code (3 letters, stored upper-case)' }),
  active: Type.Boolean({ description: 'Inactive products stay for history but are not offered; default true' }),
}

export const CreateProductBody = Type.Object(
  { name: productFields.name, type: productFields.type, price: productFields.price, currency: productFields.currency, active: Type.Optional(productFields.active) },
  { additionalProperties: false }
)
export type CreateProductInput = Static<typeof CreateProductBody>

export const UpdateProductBody = Type.Partial(Type.Object(productFields), { additionalProperties: false, minProperties: 1, description: 'The fields to change' })
export type UpdateProductInput = Static<typeof UpdateProductBody>

export const ProductListQuery = Type.Object(
  {
    search: Type.Optional(Search('Matches the name (case-insensitive substring)')),
    active: Type.Optional(Type.Boolean({ description: 'Only active (true) or inactive (false) products' })),
    ...Pagination,
  },
  { additionalProperties: false }
)
export type ProductListQueryType = Static<typeof ProductListQuery>

// ---------------------------------------------------------------- leads

export const LeadStatusSchema = StringEnum(leadStatuses, { description: 'new, contacted, qualified, won or lost' })

export const LeadSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customerId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  productId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  status: Type.String({ description: 'new, contacted, qualified, won or lost' }),
  firstName: Type.String(),
  lastName: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Lead = Static<typeof LeadSchema>

const leadFields = {
  customerId: Nullable(Id('Customer this lead belongs to, if any (must exist; 400 otherwise). Deleting the customer unlinks the lead')),
  productId: Nullable(Id('Product of interest, if any (must exist; 400 otherwise). A product with leads cannot be deleted')),
  status: LeadStatusSchema,
  lastName: Nullable(Text(200, 'Last name')),
  email: Nullable(Email('Contact email')),
  phone: Nullable(Text(50, 'Contact phone')),
  source: Nullable(Text(100, 'Where the lead came from, e.g. website, referral')),
}

export const CreateLeadBody = Type.Object(
  { firstName: Name('First name'), ...Type.Partial(Type.Object(leadFields)).properties },
  { additionalProperties: false, description: 'A new lead; status defaults to new' }
)
export type CreateLeadInput = Static<typeof CreateLeadBody>

export const UpdateLeadBody = Type.Object(
  { firstName: Type.Optional(Name('First name')), ...Type.Partial(Type.Object(leadFields)).properties },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; null clears an optional field' }
)
export type UpdateLeadInput = Static<typeof UpdateLeadBody>

export const LeadStatusBody = Type.Object({ status: LeadStatusSchema }, { additionalProperties: false })

export const LeadListQuery = Type.Object(
  {
    status: Type.Optional(LeadStatusSchema),
    customerId: Type.Optional(Id('Only leads of this customer')),
    productId: Type.Optional(Id('Only leads for this product')),
    search: Type.Optional(Search('Matches first and last name or email (case-insensitive substring)')),
    ...Pagination,
  },
  { additionalProperties: false }
)
export type LeadListQueryType = Static<typeof LeadListQuery>
