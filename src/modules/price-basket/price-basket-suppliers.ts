import { sql, type Selectable } from 'kysely'
import { Conflict, NotFound } from '../../errors.js'
import { normalizeCnpj } from './cnpj-validator.js'
import type { CreateSupplierInput, Supplier, SupplierListQueryType, UpdateSupplierInput } from './price-basket-schemas.js'
import { constraintError, defined, likePattern, optionalText, requiredText, fetchPage, type Page } from '../module-sql.js'
import type { PriceBasketDb, SupplierTable } from './price-basket-tables.js'

/**
 * Suppliers (cp_fornecedores) of one tenant. The CNPJ is stored normalized (digits only),
 * so "11.222.333/0001-81" and "11222333000181" are the same supplier (409 on the second).
 *
 * @example
 *   await createSupplier(db, { name: 'Papelaria Central', cnpj: '11.222.333/0001-81' })
 */
export async function listSuppliers(db: PriceBasketDb, query: SupplierListQueryType): Promise<Page<Supplier>> {
  let select = db.selectFrom('cp_fornecedores')
  if (query.search?.trim()) {
    const pattern = likePattern(query.search.trim())
    const digits = query.search.replace(/[.\/\-\s]/g, '')
    select = select.where((eb) => eb.or([eb('nome', 'ilike', pattern), eb('email', 'ilike', pattern), ...(digits ? [eb('cnpj', 'ilike', likePattern(digits))] : [])]))
  }
  if (query.active !== undefined) select = select.where('ativo', '=', query.active)
  return fetchPage(select, select.selectAll().orderBy('nome').orderBy('id'), query, toSupplier)
}

export async function getSupplier(db: PriceBasketDb, id: string): Promise<Supplier> {
  const row = await db.selectFrom('cp_fornecedores').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw supplierNotFound(id)
  return toSupplier(row)
}

export async function createSupplier(db: PriceBasketDb, input: CreateSupplierInput): Promise<Supplier> {
  const values = {
    nome: requiredText(input.name, 'name'),
    cnpj: cnpjOf(input.cnpj) ?? null,
    email: optionalText(input.email) ?? null,
    telefone: optionalText(input.phone) ?? null,
    ...(input.active === undefined ? {} : { ativo: input.active }),
  }
  try {
    return toSupplier(await db.insertInto('cp_fornecedores').values(values).returningAll().executeTakeFirstOrThrow())
  } catch (error) {
    throw constraintError(error, uniqueCnpj(values.cnpj))
  }
}

export async function updateSupplier(db: PriceBasketDb, id: string, input: UpdateSupplierInput): Promise<Supplier> {
  const values = defined({
    nome: input.name === undefined ? undefined : requiredText(input.name, 'name'),
    cnpj: cnpjOf(input.cnpj),
    email: optionalText(input.email),
    telefone: optionalText(input.phone),
    ativo: input.active,
  })
  try {
    const row = await db.updateTable('cp_fornecedores').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw supplierNotFound(id)
    return toSupplier(row)
  } catch (error) {
    throw constraintError(error, uniqueCnpj(values.cnpj))
  }
}

/** Deletes a supplier without quotes; one with quotes answers 409 (deactivate it instead). */
export async function deleteSupplier(db: PriceBasketDb, id: string): Promise<void> {
  try {
    const result = await db.deleteFrom('cp_fornecedores').where('id', '=', id).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw supplierNotFound(id)
  } catch (error) {
    throw constraintError(error, {
      cp_orcamentos_fornecedor_id_fkey: () => new Conflict(`Supplier ${id} has quotes, so it cannot be deleted; set "active": false to retire it.`),
    })
  }
}

export function supplierNotFound(id: string): Error {
  return new NotFound(`No supplier ${id} in this tenant. List them with GET /api/price-basket/suppliers.`)
}

function cnpjOf(value: string | null | undefined): string | null | undefined {
  const text = optionalText(value)
  return text ? normalizeCnpj(text) : text
}

function uniqueCnpj(cnpj: string | null | undefined) {
  return { cp_fornecedores_cnpj_key: () => new Conflict(`A supplier with CNPJ ${cnpj ?? ''} already exists in this tenant; update that supplier instead.`) }
}

function toSupplier(row: Selectable<SupplierTable>): Supplier {
  return {
    id: row.id,
    name: row.nome,
    cnpj: row.cnpj,
    email: row.email,
    phone: row.telefone,
    active: row.ativo,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
