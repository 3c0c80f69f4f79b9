import { sql, type ExpressionBuilder } from 'kysely'
import { Conflict, NotFound } from '../../errors.js'
import type { TenantDatabase } from '../../tenancy/tenant-schema.js'
import type { CreateQuoteItemInput, QuoteItem, UpdateQuoteItemInput } from './price-basket-schemas.js'
import { decimal, defined, requiredText } from '../module-sql.js'
import { lockedQuoteStatuses, type PriceBasketDb, type PriceBasketTables } from './price-basket-tables.js'

/** numeric(12, 3) and numeric(12, 2): digits before and after the point. */
const QUANTITY = { field: 'quantity', scale: 3, digits: 9, positive: true }
const UNIT_PRICE = { field: 'unitPrice', scale: 2, digits: 10 }

/**
 * The columns of an item as the API shows it. The subtotal is computed by PostgreSQL, in
 * numeric (exact): quantidade × preco_unitario rounded to cents.
 */
function itemColumns(eb: ExpressionBuilder<TenantDatabase & PriceBasketTables, 'cp_orcamento_itens'>) {
  return [
    eb.ref('id').as('id'),
    eb.ref('orcamento_id').as('orcamento_id'),
    eb.ref('descricao').as('descricao'),
    sql<string>`trim_scale(quantidade)::text`.as('quantidade'),
    eb.ref('unidade').as('unidade'),
    eb.ref('preco_unitario').as('preco_unitario'),
    sql<string>`round(quantidade * preco_unitario, 2)::text`.as('subtotal'),
    eb.ref('created_at').as('created_at'),
    eb.ref('updated_at').as('updated_at'),
  ] as const
}

/**
 * Items (cp_orcamento_itens) of a quote. Every change locks the quote row first and bumps
 * its updated_at, so items never change under a quote being closed concurrently; items of a
 * fechado or cancelado quote are frozen (409).
 *
 * @example
 *   await addQuoteItem(db, quoteId, { description: 'Caneta azul', quantity: 3, unitPrice: '10.50' })
 */
export async function quoteItemsOf(db: PriceBasketDb, quoteId: string): Promise<QuoteItem[]> {
  const rows = await db.selectFrom('cp_orcamento_itens').select(itemColumns).where('orcamento_id', '=', quoteId).orderBy('created_at').orderBy('id').execute()
  return rows.map(toItem)
}

/** The items of a quote; 404 when the quote does not exist. */
export async function listQuoteItems(db: PriceBasketDb, quoteId: string): Promise<QuoteItem[]> {
  const quote = await db.selectFrom('cp_orcamentos').select('id').where('id', '=', quoteId).executeTakeFirst()
  if (!quote) throw quoteNotFound(quoteId)
  return quoteItemsOf(db, quoteId)
}

export async function addQuoteItem(db: PriceBasketDb, quoteId: string, input: CreateQuoteItemInput): Promise<QuoteItem> {
  const values = {
    orcamento_id: quoteId,
    descricao: requiredText(input.description, 'description'),
    quantidade: decimal(input.quantity, QUANTITY),
    preco_unitario: decimal(input.unitPrice, UNIT_PRICE),
    ...(input.unit === undefined ? {} : { unidade: requiredText(input.unit, 'unit').toUpperCase() }),
  }
  return db.transaction().execute(async (trx) => {
    await lockQuoteForItems(trx, quoteId)
    return toItem(await trx.insertInto('cp_orcamento_itens').values(values).returning(itemColumns).executeTakeFirstOrThrow())
  })
}

export async function updateQuoteItem(db: PriceBasketDb, quoteId: string, itemId: string, input: UpdateQuoteItemInput): Promise<QuoteItem> {
  const values = defined({
    descricao: input.description === undefined ? undefined : requiredText(input.description, 'description'),
    quantidade: input.quantity === undefined ? undefined : decimal(input.quantity, QUANTITY),
    unidade: input.unit === undefined ? undefined : requiredText(input.unit, 'unit').toUpperCase(),
    preco_unitario: input.unitPrice === undefined ? undefined : decimal(input.unitPrice, UNIT_PRICE),
  })
  return db.transaction().execute(async (trx) => {
    await lockQuoteForItems(trx, quoteId)
    const row = await trx
      .updateTable('cp_orcamento_itens')
      .set({ ...values, updated_at: sql`now()` })
      .where('id', '=', itemId)
      .where('orcamento_id', '=', quoteId)
      .returning(itemColumns)
      .executeTakeFirst()
    if (!row) throw itemNotFound(quoteId, itemId)
    return toItem(row)
  })
}

export async function deleteQuoteItem(db: PriceBasketDb, quoteId: string, itemId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockQuoteForItems(trx, quoteId)
    const result = await trx.deleteFrom('cp_orcamento_itens').where('id', '=', itemId).where('orcamento_id', '=', quoteId).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw itemNotFound(quoteId, itemId)
  })
}

/**
 * Locks the quote row for the rest of the transaction (and marks it changed): 404 if there
 * is no such quote, 409 if its items are frozen. The lock orders item changes against a
 * concurrent status change to fechado.
 */
async function lockQuoteForItems(trx: PriceBasketDb, quoteId: string): Promise<void> {
  const quote = await trx.updateTable('cp_orcamentos').set({ updated_at: sql`now()` }).where('id', '=', quoteId).returning(['numero', 'status']).executeTakeFirst()
  if (!quote) throw quoteNotFound(quoteId)
  if (lockedQuoteStatuses.includes(quote.status)) {
    throw new Conflict(`Quote ${quote.numero} is ${quote.status}, so its items cannot change; reopen it first (PATCH /api/price-basket/quotes/${quoteId} {"status": "aberto"}).`)
  }
}

export function quoteNotFound(id: string): Error {
  return new NotFound(`No quote ${id} in this tenant. List them with GET /api/price-basket/quotes.`)
}

function itemNotFound(quoteId: string, itemId: string): Error {
  return new NotFound(`No item ${itemId} on quote ${quoteId}. List them with GET /api/price-basket/quotes/${quoteId}/items.`)
}

function toItem(row: { id: string; orcamento_id: string; descricao: string; quantidade: string; unidade: string; preco_unitario: string; subtotal: string; created_at: Date; updated_at: Date }): QuoteItem {
  return {
    id: row.id,
    quoteId: row.orcamento_id,
    description: row.descricao,
    quantity: row.quantidade,
    unit: row.unidade,
    unitPrice: row.preco_unitario,
    subtotal: row.subtotal,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
