import { sql, type Selectable } from 'kysely'
import { Conflict, ValidationError } from '../../errors.js'
import { quoteItemsOf, quoteNotFound } from './price-basket-items.js'
import type { CreateQuoteInput, Quote, QuoteDetail, QuoteListQueryType, UpdateQuoteInput } from './price-basket-schemas.js'
import { constraintError, defined, likePattern, optionalText, requiredText, fetchPage, type Page } from '../module-sql.js'
import type { PriceBasketDb, QuoteTable } from './price-basket-tables.js'

/**
 * Quotes (cp_orcamentos) of one tenant, each with its total computed by PostgreSQL: the sum
 * of its items' subtotals, `round(quantidade * preco_unitario, 2)`, as an exact decimal
 * string. A list computes every total of the page in the same query (a lateral aggregate
 * per quote, served by idx_cp_orcamento_itens_orcamento_id), never one query per quote.
 *
 * @example
 *   const quote = await createQuote(db, { number: '2025/0001', description: 'Material de escritório' })
 *   const page = await listQuotes(db, { status: 'aberto', search: '2025/' })
 */
export async function listQuotes(db: PriceBasketDb, query: QuoteListQueryType): Promise<Page<Quote>> {
  let filtered = quotesFrom(db)
  if (query.search?.trim()) {
    const pattern = likePattern(query.search.trim())
    filtered = filtered.where((eb) => eb.or([eb('o.numero', 'ilike', pattern), eb('o.descricao', 'ilike', pattern)]))
  }
  if (query.status) filtered = filtered.where('o.status', '=', query.status)
  if (query.supplierId) filtered = filtered.where('o.fornecedor_id', '=', query.supplierId)
  return fetchPage(filtered, withTotals(filtered).orderBy('o.created_at', 'desc').orderBy('o.id'), query, toQuote)
}

/** The quote with its items and total, read from one snapshot (so the total matches the items shown). */
export async function getQuote(db: PriceBasketDb, id: string): Promise<QuoteDetail> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const row = await withTotals(quotesFrom(trx).where('o.id', '=', id)).executeTakeFirst()
      if (!row) throw quoteNotFound(id)
      return { ...toQuote(row), items: await quoteItemsOf(trx, id) }
    })
}

export async function createQuote(db: PriceBasketDb, input: CreateQuoteInput): Promise<QuoteDetail> {
  const values = {
    numero: requiredText(input.number, 'number'),
    descricao: optionalText(input.description) ?? null,
    fornecedor_id: input.supplierId ?? null,
    ...(input.status ? { status: input.status } : {}),
  }
  try {
    const { id } = await db.insertInto('cp_orcamentos').values(values).returning('id').executeTakeFirstOrThrow()
    return await getQuote(db, id)
  } catch (error) {
    throw constraintError(error, quoteConstraints(values))
  }
}

export async function updateQuote(db: PriceBasketDb, id: string, input: UpdateQuoteInput): Promise<QuoteDetail> {
  const values = defined({
    numero: input.number === undefined ? undefined : requiredText(input.number, 'number'),
    descricao: optionalText(input.description),
    status: input.status,
    fornecedor_id: input.supplierId,
  })
  try {
    const row = await db.updateTable('cp_orcamentos').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).returning('id').executeTakeFirst()
    if (!row) throw quoteNotFound(id)
    return await getQuote(db, id)
  } catch (error) {
    throw constraintError(error, quoteConstraints(values))
  }
}

/** Deletes a quote and its items (cp_orcamento_itens.orcamento_id on delete cascade). */
export async function deleteQuote(db: PriceBasketDb, id: string): Promise<void> {
  const result = await db.deleteFrom('cp_orcamentos').where('id', '=', id).executeTakeFirst()
  if (result.numDeletedRows === 0n) throw quoteNotFound(id)
}

function quotesFrom(db: PriceBasketDb) {
  return db.selectFrom('cp_orcamentos as o')
}

/** Adds the supplier's name and the lateral item aggregate (total, item count) to a quote query. */
function withTotals(query: ReturnType<typeof quotesFrom>) {
  return query
    .leftJoin('cp_fornecedores as f', 'f.id', 'o.fornecedor_id')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('cp_orcamento_itens as i')
          .whereRef('i.orcamento_id', '=', 'o.id')
          .select([sql<string>`coalesce(sum(round(i.quantidade * i.preco_unitario, 2)), 0.00)::numeric(16, 2)::text`.as('total'), sql<number>`count(*)::int`.as('item_count')])
          .as('t'),
      (join) => join.onTrue()
    )
    .select(['o.id', 'o.numero', 'o.descricao', 'o.status', 'o.fornecedor_id', 'o.created_at', 'o.updated_at', 'f.nome as fornecedor_nome', 't.total', 't.item_count'])
}

function quoteConstraints(values: { numero?: string; fornecedor_id?: string | null }) {
  return {
    cp_orcamentos_numero_key: () => new Conflict(`A quote numbered "${values.numero ?? ''}" already exists in this tenant; numbers are unique.`),
    cp_orcamentos_fornecedor_id_fkey: () =>
      new ValidationError(`supplierId ${values.fornecedor_id ?? ''} is not a supplier of this tenant; create it first (POST /api/price-basket/suppliers) or leave supplierId out.`),
  }
}

type QuoteRow = Pick<Selectable<QuoteTable>, 'id' | 'numero' | 'descricao' | 'status' | 'fornecedor_id' | 'created_at' | 'updated_at'> & {
  fornecedor_nome: string | null
  total: string
  item_count: number
}

function toQuote(row: QuoteRow): Quote {
  return {
    id: row.id,
    number: row.numero,
    description: row.descricao,
    status: row.status,
    supplierId: row.fornecedor_id,
    supplierName: row.fornecedor_nome,
    itemCount: row.item_count,
    total: row.total,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}
