import { sql, type Selectable } from 'kysely'
import { NotFound, ValidationError } from '../../errors.js'
import type { CreateLeadInput, Lead, LeadListQueryType, UpdateLeadInput } from './crm-schemas.js'
import { constraintError, defined, likePattern, optionalText, requiredText, fetchPage, type Page } from '../module-sql.js'
import type { CrmDb, LeadStatus, LeadTable } from './crm-tables.js'

/**
 * Sales leads of one tenant, optionally linked to a customer and a product, moving through
 * new → contacted → qualified → won | lost (any move is allowed: a lost lead may come back).
 *
 * @example
 *   const lead = await createLead(db, { firstName: 'Jane', email: 'jane@example.com', source: 'referral' })
 *   await setLeadStatus(db, lead.id, 'contacted')
 */
export async function listLeads(db: CrmDb, query: LeadListQueryType): Promise<Page<Lead>> {
  let select = db.selectFrom('leads')
  if (query.status) select = select.where('status', '=', query.status)
  if (query.customerId) select = select.where('customer_id', '=', query.customerId)
  if (query.productId) select = select.where('product_id', '=', query.productId)
  if (query.search?.trim()) {
    const pattern = likePattern(query.search.trim())
    // Same expression as the leads_name_trgm_idx index, so the index serves it.
    select = select.where((eb) => eb.or([eb(sql`first_name || ' ' || coalesce(last_name, '')`, 'ilike', pattern), eb('email', 'ilike', pattern)]))
  }
  return fetchPage(select, select.selectAll().orderBy('created_at', 'desc').orderBy('id'), query, toLead)
}

export async function getLead(db: CrmDb, id: string): Promise<Lead> {
  const row = await db.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw leadNotFound(id)
  return toLead(row)
}

export async function createLead(db: CrmDb, input: CreateLeadInput): Promise<Lead> {
  const values = {
    first_name: requiredText(input.firstName, 'firstName'),
    last_name: optionalText(input.lastName) ?? null,
    email: optionalText(input.email) ?? null,
    phone: optionalText(input.phone) ?? null,
    source: optionalText(input.source) ?? null,
    customer_id: input.customerId ?? null,
    product_id: input.productId ?? null,
    ...(input.status ? { status: input.status } : {}),
  }
  try {
    return toLead(await db.insertInto('leads').values(values).returningAll().executeTakeFirstOrThrow())
  } catch (error) {
    throw constraintError(error, missingReferences(values))
  }
}

export async function updateLead(db: CrmDb, id: string, input: UpdateLeadInput): Promise<Lead> {
  const values = defined({
    first_name: input.firstName === undefined ? undefined : requiredText(input.firstName, 'firstName'),
    last_name: optionalText(input.lastName),
    email: optionalText(input.email),
    phone: optionalText(input.phone),
    source: optionalText(input.source),
    customer_id: input.customerId,
    product_id: input.productId,
    status: input.status,
  })
  try {
    const row = await db.updateTable('leads').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw leadNotFound(id)
    return toLead(row)
  } catch (error) {
    throw constraintError(error, missingReferences(values))
  }
}

export async function setLeadStatus(db: CrmDb, id: string, status: LeadStatus): Promise<Lead> {
  return updateLead(db, id, { status })
}

export async function deleteLead(db: CrmDb, id: string): Promise<void> {
  const result = await db.deleteFrom('leads').where('id', '=', id).executeTakeFirst()
  if (result.numDeletedRows === 0n) throw leadNotFound(id)
}

function leadNotFound(id: string): Error {
  return new NotFound(`No lead ${id} in this tenant. List them with GET /api/crm/leads.`)
}

function missingReferences(values: { customer_id?: string | null; product_id?: string | null }) {
  return {
    leads_customer_id_fkey: () => new ValidationError(`customerId ${values.customer_id ?? ''} is not a customer of this tenant; create it first (POST /api/crm/customers) or leave customerId out.`),
    leads_product_id_fkey: () => new ValidationError(`productId ${values.product_id ?? ''} is not a product of this tenant; create it first (POST /api/crm/products) or leave productId out.`),
  }
}

function toLead(row: Selectable<LeadTable>): Lead {
  return {
    id: row.id,
    customerId: row.customer_id,
    productId: row.product_id,
    status: row.status,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phone: row.phone,
    source: row.source,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
