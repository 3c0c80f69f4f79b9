import { sql, type Selectable } from 'kysely'
import { Conflict, NotFound } from '../../errors.js'
import type { CreateProductInput, Product, ProductListQueryType, UpdateProductInput } from './crm-schemas.js'
import { constraintError, decimal, defined, likePattern, requiredText, fetchPage, type Page } from '../module-sql.js'
import type { CrmDb, ProductTable } from './crm-tables.js'

/** numeric(12, 2): 10 digits before the point, 2 after. */
const PRICE = { field: 'price', scale: 2, digits: 10 }

/**
 * The product catalog of one tenant. Prices are exact decimal strings end to end
 * (node-postgres returns numeric as a string; it is never turned into a float).
 *
 * @example
 *   await createProduct(db, { name: 'Consulting', type: 'service', price: '5000.00', currency: 'USD' })
 */
export async function listProducts(db: CrmDb, query: ProductListQueryType): Promise<Page<Product>> {
  let select = db.selectFrom('products')
  if (query.search?.trim()) select = select.where('name', 'ilike', likePattern(query.search.trim()))
  if (query.active !== undefined) select = select.where('active', '=', query.active)
  return fetchPage(select, select.selectAll().orderBy('created_at', 'desc').orderBy('id'), query, toProduct)
}

export async function getProduct(db: CrmDb, id: string): Promise<Product> {
  const row = await db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw productNotFound(id)
  return toProduct(row)
}

export async function createProduct(db: CrmDb, input: CreateProductInput): Promise<Product> {
  const values = {
    name: requiredText(input.name, 'name'),
    type: requiredText(input.type, 'type'),
    price: decimal(input.price, PRICE),
    currency: input.currency.toUpperCase(),
    ...(input.active === undefined ? {} : { active: input.active }),
  }
  try {
    return toProduct(await db.insertInto('products').values(values).returningAll().executeTakeFirstOrThrow())
  } catch (error) {
    throw constraintError(error, uniqueName(values.name))
  }
}

export async function updateProduct(db: CrmDb, id: string, input: UpdateProductInput): Promise<Product> {
  const values = defined({
    name: input.name === undefined ? undefined : requiredText(input.name, 'name'),
    type: input.type === undefined ? undefined : requiredText(input.type, 'type'),
    price: input.price === undefined ? undefined : decimal(input.price, PRICE),
    currency: input.currency?.toUpperCase(),
    active: input.active,
  })
  try {
    const row = await db.updateTable('products').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw productNotFound(id)
    return toProduct(row)
  } catch (error) {
    throw constraintError(error, uniqueName(values.name))
  }
}

/** Deletes a product nobody is interested in; one with leads answers 409 (deactivate it instead). */
export async function deleteProduct(db: CrmDb, id: string): Promise<void> {
  try {
    const result = await db.deleteFrom('products').where('id', '=', id).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw productNotFound(id)
  } catch (error) {
    throw constraintError(error, {
      leads_product_id_fkey: () => new Conflict(`Product ${id} still has leads, so it cannot be deleted; set "active": false to stop offering it, or move its leads first.`),
    })
  }
}

function productNotFound(id: string): Error {
  return new NotFound(`No product ${id} in this tenant. List them with GET /api/crm/products.`)
}

function uniqueName(name: string | undefined) {
  return { products_name_key: () => new Conflict(`A product named "${name ?? ''}" already exists in this tenant; names are unique (case-insensitive).`) }
}

function toProduct(row: Selectable<ProductTable>): Product {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    price: row.price,
    currency: row.currency,
    active: row.active,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
