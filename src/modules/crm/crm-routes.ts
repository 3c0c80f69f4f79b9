import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tenantOf } from '../../http/plugins/tenant-resolver-plugin.js'
import { ErrorSchema, errorResponses } from '../../http/schemas/common-schemas.js'
import { createCustomer, deleteCustomer, getCustomer, listCustomers, updateCustomer } from './crm-customers.js'
import { createLead, deleteLead, getLead, listLeads, setLeadStatus, updateLead } from './crm-leads.js'
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from './crm-products.js'
import {
  CreateCustomerBody,
  CreateLeadBody,
  CreateProductBody,
  CustomerListQuery,
  CustomerSchema,
  IdParams,
  LeadListQuery,
  LeadSchema,
  LeadStatusBody,
  PageOf,
  ProductListQuery,
  ProductSchema,
  UpdateCustomerBody,
  UpdateLeadBody,
  UpdateProductBody,
} from './crm-schemas.js'
import type { CrmDb, CrmTables } from './crm-tables.js'

const tags = ['crm']
const errors = { ...errorResponses, 503: ErrorSchema }
const deleted = { 204: Type.Null({ description: 'Deleted' }), ...errors }

/**
 * CRM routes, mounted under `/api/crm` by the module routes plugin (tenant resolved, module
 * installed, caller holding the "crm" permission). Every query runs in the request tenant's
 * own database; field names are camelCase in the API and snake_case in the tables.
 */
export async function crmRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  /** Runs `fn` on the request tenant's database (a lease of its pool, released after). */
  const crm = <T>(request: FastifyRequest, fn: (db: CrmDb) => Promise<T>) =>
    app.tenantd.pools.run(tenantOf(request).id, (db) => fn(db.withTables<CrmTables>()))

  // ------------------------------------------------------------ customers
  app.get('/customers', { schema: { tags, summary: 'List customers (runbook 002 isolation check)', querystring: CustomerListQuery, response: { 200: PageOf(CustomerSchema), ...errors } } }, (request) =>
    crm(request, (db) => listCustomers(db, request.query))
  )
  app.get('/customers/:id', { schema: { tags, summary: 'Show a customer', params: IdParams, response: { 200: CustomerSchema, ...errors } } }, (request) =>
    crm(request, (db) => getCustomer(db, request.params.id))
  )
  app.post('/customers', { schema: { tags, summary: 'Add a customer (email unique per tenant: 409)', body: CreateCustomerBody, response: { 201: CustomerSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await crm(request, (db) => createCustomer(db, request.body)))
  )
  app.patch('/customers/:id', { schema: { tags, summary: 'Change a customer', params: IdParams, body: UpdateCustomerBody, response: { 200: CustomerSchema, ...errors } } }, (request) =>
    crm(request, (db) => updateCustomer(db, request.params.id, request.body))
  )
  app.delete('/customers/:id', { schema: { tags, summary: 'Delete a customer (its leads stay, unlinked)', params: IdParams, response: deleted } }, async (request, reply) => {
    await crm(request, (db) => deleteCustomer(db, request.params.id))
    return reply.status(204).send(null)
  })

  // ------------------------------------------------------------ products
  app.get('/products', { schema: { tags, summary: 'List products', querystring: ProductListQuery, response: { 200: PageOf(ProductSchema), ...errors } } }, (request) =>
    crm(request, (db) => listProducts(db, request.query))
  )
  app.get('/products/:id', { schema: { tags, summary: 'Show a product', params: IdParams, response: { 200: ProductSchema, ...errors } } }, (request) =>
    crm(request, (db) => getProduct(db, request.params.id))
  )
  app.post('/products', { schema: { tags, summary: 'Add a product (name unique per tenant: 409)', body: CreateProductBody, response: { 201: ProductSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await crm(request, (db) => createProduct(db, request.body)))
  )
  app.patch('/products/:id', { schema: { tags, summary: 'Change a product', params: IdParams, body: UpdateProductBody, response: { 200: ProductSchema, ...errors } } }, (request) =>
    crm(request, (db) => updateProduct(db, request.params.id, request.body))
  )
  app.delete('/products/:id', { schema: { tags, summary: 'Delete a product (409 while leads refer to it)', params: IdParams, response: deleted } }, async (request, reply) => {
    await crm(request, (db) => deleteProduct(db, request.params.id))
    return reply.status(204).send(null)
  })

  // ------------------------------------------------------------ leads
  app.get('/leads', { schema: { tags, summary: 'List leads, by status, customer or product', querystring: LeadListQuery, response: { 200: PageOf(LeadSchema), ...errors } } }, (request) =>
    crm(request, (db) => listLeads(db, request.query))
  )
  app.get('/leads/:id', { schema: { tags, summary: 'Show a lead', params: IdParams, response: { 200: LeadSchema, ...errors } } }, (request) =>
    crm(request, (db) => getLead(db, request.params.id))
  )
  app.post('/leads', { schema: { tags, summary: 'Add a lead (status new unless given)', body: CreateLeadBody, response: { 201: LeadSchema, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await crm(request, (db) => createLead(db, request.body)))
  )
  app.patch('/leads/:id', { schema: { tags, summary: 'Change a lead', params: IdParams, body: UpdateLeadBody, response: { 200: LeadSchema, ...errors } } }, (request) =>
    crm(request, (db) => updateLead(db, request.params.id, request.body))
  )
  app.post('/leads/:id/status', { schema: { tags, summary: 'Move a lead to another status (new, contacted, qualified, won, lost)', params: IdParams, body: LeadStatusBody, response: { 200: LeadSchema, ...errors } } }, (request) =>
    crm(request, (db) => setLeadStatus(db, request.params.id, request.body.status))
  )
  app.delete('/leads/:id', { schema: { tags, summary: 'Delete a lead', params: IdParams, response: deleted } }, async (request, reply) => {
    await crm(request, (db) => deleteLead(db, request.params.id))
    return reply.status(204).send(null)
  })
}
