import type { Selectable } from 'kysely'
import { sql } from 'kysely'
import { Conflict, NotFound } from '../../errors.js'
import type { CreateCustomerInput, Customer, CustomerListQueryType, UpdateCustomerInput } from './crm-schemas.js'
import { constraintError, defined, likePattern, optionalText, requiredText, fetchPage, type Page } from '../module-sql.js'
import type { CrmDb, CustomerTable } from './crm-tables.js'

/**
 * Customers of one tenant (the `customers` table of its own database). Runbook 002's
 * isolation check reads this list: each tenant sees only its own database.
 *
 * @example
 *   const page = await listCustomers(db, { search: 'acme', limit: 20, offset: 0 })
 */
export async function listCustomers(db: CrmDb, query: CustomerListQueryType): Promise<Page<Customer>> {
  let select = db.selectFrom('customers')
  if (query.search?.trim()) {
    const pattern = likePattern(query.search.trim())
    select = select.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('email', 'ilike', pattern), eb('company', 'ilike', pattern)]))
  }
  return fetchPage(select, select.selectAll().orderBy('created_at', 'desc').orderBy('id'), query, toCustomer)
}

export async function getCustomer(db: CrmDb, id: string): Promise<Customer> {
  const row = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw customerNotFound(id)
  return toCustomer(row)
}

export async function createCustomer(db: CrmDb, input: CreateCustomerInput): Promise<Customer> {
  const values = {
    name: requiredText(input.name, 'name'),
    email: optionalText(input.email) ?? null,
    phone: optionalText(input.phone) ?? null,
    company: optionalText(input.company) ?? null,
    notes: optionalText(input.notes) ?? null,
  }
  try {
    return toCustomer(await db.insertInto('customers').values(values).returningAll().executeTakeFirstOrThrow())
  } catch (error) {
    throw constraintError(error, uniqueEmail(values.email))
  }
}

export async function updateCustomer(db: CrmDb, id: string, input: UpdateCustomerInput): Promise<Customer> {
  const values = defined({
    name: input.name === undefined ? undefined : requiredText(input.name, 'name'),
    email: optionalText(input.email),
    phone: optionalText(input.phone),
    company: optionalText(input.company),
    notes: optionalText(input.notes),
  })
  try {
    const row = await db
      .updateTable('customers')
      .set({ ...values, updated_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw customerNotFound(id)
    return toCustomer(row)
  } catch (error) {
    throw constraintError(error, uniqueEmail(values.email))
  }
}

/** Deletes a customer; its leads stay, unlinked (leads.customer_id on delete set null). */
export async function deleteCustomer(db: CrmDb, id: string): Promise<void> {
  const result = await db.deleteFrom('customers').where('id', '=', id).executeTakeFirst()
  if (result.numDeletedRows === 0n) throw customerNotFound(id)
}

function customerNotFound(id: string): Error {
  return new NotFound(`No customer ${id} in this tenant. List them with GET /api/crm/customers.`)
}

function uniqueEmail(email: string | null | undefined) {
  return { customers_email_key: () => new Conflict(`A customer with email "${email ?? ''}" already exists in this tenant; update that customer instead.`) }
}

function toCustomer(row: Selectable<CustomerTable>): Customer {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    company: row.company,
    notes: row.notes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
