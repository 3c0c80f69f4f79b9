import { Type, type Static, type TSchema } from 'typebox'
import { Pagination, StringEnum } from '../../http/schemas/common-schemas.js'
import { quoteStatuses } from './price-basket-tables.js'
import { Nullable } from '../../http/schemas/common-schemas.js'

/*
 * The API speaks English; the cp_* tables keep runbook 003's Portuguese column names:
 *   supplier = fornecedor (name = nome, phone = telefone, active = ativo, cnpj = cnpj)
 *   quote    = orçamento  (number = numero, description = descricao, supplierId = fornecedor_id)
 *   item     = orcamento_item (description = descricao, quantity = quantidade,
 *                              unit = unidade, unitPrice = preco_unitario)
 * Quote status values stay Portuguese (rascunho, aberto, fechado, cancelado): they are data.
 * Decimals are exact strings in replies ("40.00"); requests may send a JSON number or a string.
 */

/** A value that may also be null (to clear it): a type list, so ajv reports one plain message. */

const Id = (description: string) => Type.String({ format: 'uuid', description })
const Text = (maxLength: number, description: string) => Type.String({ maxLength, description })
const Required = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, pattern: '\\S', description })
const Search = (description: string) => Type.String({ maxLength: 200, description })
const DecimalInput = (description: string) =>
  Type.Unsafe<string | number>({ type: ['string', 'number'], description: `${description}. A JSON number or a decimal string, e.g. 10.5 or "10.50"` })
const Timestamp = Type.String({ format: 'date-time' })
const NullableString = (options: { format?: string; description?: string } = {}) => Type.Union([Type.String(options), Type.Null()])

export const IdParams = Type.Object({ id: Id('Record id (uuid)') }, { additionalProperties: false })
export const ItemParams = Type.Object({ id: Id('Quote id (uuid)'), itemId: Id('Item id (uuid)') }, { additionalProperties: false })

/** `{items, total, limit, offset}` of one page (`total` counts all pages). */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), total: Type.Integer({ description: 'Matching records in all pages' }), limit: Type.Integer(), offset: Type.Integer() })

export type { Page } from '../module-sql.js'

// ---------------------------------------------------------------- suppliers (cp_fornecedores)

export const SupplierSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ description: 'nome' }),
    cnpj: NullableString({ description: '14 characters, digits only (punctuation stripped)' }),
    email: NullableString(),
    phone: NullableString({ description: 'telefone' }),
    active: Type.Boolean({ description: 'ativo' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A supplier (cp_fornecedores)' }
)
export type Supplier = Static<typeof SupplierSchema>

const supplierFields = {
  cnpj: Nullable(Type.String({ maxLength: 20, description: 'CNPJ with or without punctuation (11.222.333/0001-81); check digits verified; unique per tenant. The 2026 alphanumeric form is accepted' })),
  email: Nullable(Type.String({ format: 'email', maxLength: 320, description: 'Contact email' })),
  phone: Nullable(Text(50, 'Contact phone (telefone)')),
  active: Type.Boolean({ description: 'ativo; an inactive supplier stays on its quotes. Default true' }),
}

export const CreateSupplierBody = Type.Object(
  { name: Required(200, 'Supplier name (nome)'), ...Type.Partial(Type.Object(supplierFields)).properties },
  { additionalProperties: false }
)
export type CreateSupplierInput = Static<typeof CreateSupplierBody>

export const UpdateSupplierBody = Type.Object(
  { name: Type.Optional(Required(200, 'Supplier name (nome)')), ...Type.Partial(Type.Object(supplierFields)).properties },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; null clears an optional field' }
)
export type UpdateSupplierInput = Static<typeof UpdateSupplierBody>

export const SupplierListQuery = Type.Object(
  {
    search: Type.Optional(Search('Matches name, CNPJ or email (case-insensitive substring)')),
    active: Type.Optional(Type.Boolean({ description: 'Only active (true) or inactive (false) suppliers' })),
    ...Pagination,
  },
  { additionalProperties: false }
)
export type SupplierListQueryType = Static<typeof SupplierListQuery>

// ---------------------------------------------------------------- quote items (cp_orcamento_itens)

export const QuoteItemSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    quoteId: Type.String({ format: 'uuid', description: 'orcamento_id' }),
    description: Type.String({ description: 'descricao' }),
    quantity: Type.String({ description: 'quantidade, decimal string without trailing zeros, e.g. "3" or "2.5"' }),
    unit: Type.String({ description: 'unidade, e.g. UN, KG, CX' }),
    unitPrice: Type.String({ description: 'preco_unitario, decimal string with 2 places, e.g. "10.50"' }),
    subtotal: Type.String({ description: 'quantity × unitPrice rounded to cents, computed by PostgreSQL' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A quote item (cp_orcamento_itens)' }
)
export type QuoteItem = Static<typeof QuoteItemSchema>

const itemFields = {
  description: Required(500, 'What is quoted (descricao)'),
  quantity: DecimalInput('quantidade, > 0, at most 3 decimals'),
  unit: Required(20, 'unidade, e.g. UN, KG, CX; default UN'),
  unitPrice: DecimalInput('preco_unitario, >= 0, at most 2 decimals'),
}

export const CreateQuoteItemBody = Type.Object(
  { description: itemFields.description, quantity: itemFields.quantity, unit: Type.Optional(itemFields.unit), unitPrice: itemFields.unitPrice },
  { additionalProperties: false, description: 'A new item; refused (409) while the quote is fechado or cancelado' }
)
export type CreateQuoteItemInput = Static<typeof CreateQuoteItemBody>

export const UpdateQuoteItemBody = Type.Partial(Type.Object(itemFields), { additionalProperties: false, minProperties: 1, description: 'The fields to change' })
export type UpdateQuoteItemInput = Static<typeof UpdateQuoteItemBody>

// ---------------------------------------------------------------- quotes (cp_orcamentos)

export const QuoteStatusSchema = StringEnum(quoteStatuses, { description: 'rascunho (draft), aberto (open), fechado (closed), cancelado (canceled)' })

const quoteProperties = {
  id: Type.String({ format: 'uuid' }),
  number: Type.String({ description: 'numero, unique per tenant' }),
  description: NullableString({ description: 'descricao' }),
  status: Type.String({ description: 'rascunho, aberto, fechado or cancelado' }),
  supplierId: NullableString({ format: 'uuid', description: 'fornecedor_id' }),
  supplierName: NullableString({ description: "The supplier's name (nome)" }),
  itemCount: Type.Integer({ description: 'How many items the quote has' }),
  total: Type.String({ description: 'Sum of the item subtotals (quantity × unitPrice, each rounded to cents), computed by PostgreSQL; "0.00" without items' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}

export const QuoteSchema = Type.Object(quoteProperties, { description: 'A quote (cp_orcamentos) with its total' })
export type Quote = Static<typeof QuoteSchema>

export const QuoteDetailSchema = Type.Object({ ...quoteProperties, items: Type.Array(QuoteItemSchema) }, { description: 'A quote with its items and total' })
export type QuoteDetail = Static<typeof QuoteDetailSchema>

const quoteFields = {
  number: Required(50, 'numero, e.g. 2025/0001; unique per tenant (409)'),
  description: Nullable(Text(2000, 'descricao')),
  status: QuoteStatusSchema,
  supplierId: Nullable(Id('fornecedor_id: a supplier of this tenant (400 if unknown)')),
}

export const CreateQuoteBody = Type.Object(
  { number: quoteFields.number, ...Type.Partial(Type.Object({ description: quoteFields.description, status: quoteFields.status, supplierId: quoteFields.supplierId })).properties },
  { additionalProperties: false, description: 'A new quote; status defaults to rascunho' }
)
export type CreateQuoteInput = Static<typeof CreateQuoteBody>

export const UpdateQuoteBody = Type.Partial(Type.Object(quoteFields), {
  additionalProperties: false,
  minProperties: 1,
  description: 'The fields to change; null clears description or supplierId. Status may move freely (aberto reopens a fechado quote)',
})
export type UpdateQuoteInput = Static<typeof UpdateQuoteBody>

export const QuoteListQuery = Type.Object(
  {
    search: Type.Optional(Search('Matches number (numero) or description (descricao), case-insensitive substring')),
    status: Type.Optional(QuoteStatusSchema),
    supplierId: Type.Optional(Id('Only quotes of this supplier')),
    ...Pagination,
  },
  { additionalProperties: false }
)
export type QuoteListQueryType = Static<typeof QuoteListQuery>
