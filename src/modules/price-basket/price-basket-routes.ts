import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tenantOf } from '../../http/plugins/tenant-resolver-plugin.js'
import { ErrorSchema, errorResponses } from '../../http/schemas/common-schemas.js'
import { addQuoteItem, deleteQuoteItem, listQuoteItems, updateQuoteItem } from './price-basket-items.js'
import { createQuote, deleteQuote, getQuote, listQuotes, updateQuote } from './price-basket-quotes.js'
import {
  CreateQuoteBody,
  CreateQuoteItemBody,
  CreateSupplierBody,
  IdParams,
  ItemParams,
  PageOf,
  QuoteDetailSchema,
  QuoteItemSchema,
  QuoteListQuery,
  QuoteSchema,
  SupplierListQuery,
  SupplierSchema,
  UpdateQuoteBody,
  UpdateQuoteItemBody,
  UpdateSupplierBody,
} from './price-basket-schemas.js'
import { createSupplier, deleteSupplier, getSupplier, listSuppliers, updateSupplier } from './price-basket-suppliers.js'
import type { PriceBasketDb, PriceBasketTables } from './price-basket-tables.js'

const tags = ['price-basket']
const errors = { ...errorResponses, 503: ErrorSchema }
const deleted = { 204: Type.Null({ description: 'Deleted' }), ...errors }

/**
 * Price basket routes (runbook 003), mounted under `/api/price-basket` by the module routes
 * plugin (tenant resolved, module installed, caller holding the "price-basket" permission).
 * Every query runs in the request tenant's own database. English field names map to the
 * Portuguese cp_* columns as listed in price-basket-schemas.ts.
 */
export async function priceBasketRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  /** Runs `fn` on the request tenant's database (a lease of its pool, released after). */
  const basket = <T>(request: FastifyRequest, fn: (db: PriceBasketDb) => Promise<T>) =>
    app.tenantd.pools.run(tenantOf(request).id, (db) => fn(db.withTables<PriceBasketTables>()))

  // ------------------------------------------------------------ suppliers (cp_fornecedores)
  app.get('/suppliers', { schema: { tags, summary: 'List suppliers (fornecedores), by name', querystring: SupplierListQuery, response: { 200: PageOf(SupplierSchema), ...errors } } }, (request) =>
    basket(request, (db) => listSuppliers(db, request.query))
  )
  app.get('/suppliers/:id', { schema: { tags, summary: 'Show a supplier', params: IdParams, response: { 200: SupplierSchema, ...errors } } }, (request) =>
    basket(request, (db) => getSupplier(db, request.params.id))
  )
  app.post('/suppliers', { schema: { tags, summary: 'Add a supplier (CNPJ checked and unique per tenant: 409)', body: CreateSupplierBody, response: { 201: SupplierSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await basket(request, (db) => createSupplier(db, request.body)))
  )
  app.patch('/suppliers/:id', { schema: { tags, summary: 'Change a supplier', params: IdParams, body: UpdateSupplierBody, response: { 200: SupplierSchema, ...errors } } }, (request) =>
    basket(request, (db) => updateSupplier(db, request.params.id, request.body))
  )
  app.delete('/suppliers/:id', { schema: { tags, summary: 'Delete a supplier (409 while quotes refer to it; deactivate instead)', params: IdParams, response: deleted } }, async (request, reply) => {
    await basket(request, (db) => deleteSupplier(db, request.params.id))
    return reply.status(204).send(null)
  })

  // ------------------------------------------------------------ quotes (cp_orcamentos)
  app.get('/quotes', { schema: { tags, summary: 'List quotes (orçamentos) with their totals, newest first', querystring: QuoteListQuery, response: { 200: PageOf(QuoteSchema), ...errors } } }, (request) =>
    basket(request, (db) => listQuotes(db, request.query))
  )
  app.get('/quotes/:id', { schema: { tags, summary: 'Show a quote with its items and total', params: IdParams, response: { 200: QuoteDetailSchema, ...errors } } }, (request) =>
    basket(request, (db) => getQuote(db, request.params.id))
  )
  app.post('/quotes', { schema: { tags, summary: 'Create a quote (number unique per tenant: 409)', body: CreateQuoteBody, response: { 201: QuoteDetailSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await basket(request, (db) => createQuote(db, request.body)))
  )
  app.patch('/quotes/:id', { schema: { tags, summary: 'Change a quote: number, description, supplier or status', params: IdParams, body: UpdateQuoteBody, response: { 200: QuoteDetailSchema, ...errors } } }, (request) =>
    basket(request, (db) => updateQuote(db, request.params.id, request.body))
  )
  app.delete('/quotes/:id', { schema: { tags, summary: 'Delete a quote and its items', params: IdParams, response: deleted } }, async (request, reply) => {
    await basket(request, (db) => deleteQuote(db, request.params.id))
    return reply.status(204).send(null)
  })

  // ------------------------------------------------------------ quote items (cp_orcamento_itens)
  app.get('/quotes/:id/items', { schema: { tags, summary: 'List the items of a quote, with subtotals', params: IdParams, response: { 200: Type.Object({ items: Type.Array(QuoteItemSchema) }), ...errors } } }, async (request) => ({
    items: await basket(request, (db) => listQuoteItems(db, request.params.id)),
  }))
  app.post('/quotes/:id/items', { schema: { tags, summary: 'Add an item to a quote (409 if the quote is fechado or cancelado)', params: IdParams, body: CreateQuoteItemBody, response: { 201: QuoteItemSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await basket(request, (db) => addQuoteItem(db, request.params.id, request.body)))
  )
  app.patch('/quotes/:id/items/:itemId', { schema: { tags, summary: 'Change an item of a quote', params: ItemParams, body: UpdateQuoteItemBody, response: { 200: QuoteItemSchema, ...errors } } }, (request) =>
    basket(request, (db) => updateQuoteItem(db, request.params.id, request.params.itemId, request.body))
  )
  app.delete('/quotes/:id/items/:itemId', { schema: { tags, summary: 'Remove an item from a quote', params: ItemParams, response: deleted } }, async (request, reply) => {
    await basket(request, (db) => deleteQuoteItem(db, request.params.id, request.params.itemId))
    return reply.status(204).send(null)
  })
}
