import type { ColumnType, Generated, Kysely } from 'kysely'
import type { CreatedAt, Decimal, UpdatedAt } from '../module-sql.js'
import type { TenantDatabase } from '../../tenancy/tenant-schema.js'


/**
 * Kysely's view of the cp_* tables of tenant-migrations/modules/price-basket/ (a type alias:
 * `withTables` needs an index-compatible type). Columns keep runbook 003's Portuguese names;
 * the API speaks English (see price-basket-schemas.ts).
 */
export type PriceBasketTables = {
  cp_fornecedores: SupplierTable
  cp_orcamentos: QuoteTable
  cp_orcamento_itens: QuoteItemTable
}

/** A tenant database with the price-basket module installed. */
export type PriceBasketDb = Kysely<TenantDatabase & PriceBasketTables>

/** cp_fornecedores: suppliers. */
export interface SupplierTable {
  id: Generated<string>
  nome: string
  cnpj: string | null
  email: string | null
  telefone: string | null
  ativo: Generated<boolean>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/** Quote statuses, as runbook 003 names them: draft, open, closed, canceled. */
export const quoteStatuses = ['rascunho', 'aberto', 'fechado', 'cancelado'] as const
export type QuoteStatus = (typeof quoteStatuses)[number]
/** Statuses whose items are frozen. */
export const lockedQuoteStatuses: readonly QuoteStatus[] = ['fechado', 'cancelado']

/** cp_orcamentos: quotes. */
export interface QuoteTable {
  id: Generated<string>
  numero: string
  descricao: string | null
  status: ColumnType<QuoteStatus, QuoteStatus | undefined, QuoteStatus>
  fornecedor_id: string | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/** cp_orcamento_itens: quote items. */
export interface QuoteItemTable {
  id: Generated<string>
  orcamento_id: string
  descricao: string
  quantidade: Decimal
  unidade: ColumnType<string, string | undefined, string>
  preco_unitario: Decimal
  created_at: CreatedAt
  updated_at: UpdatedAt
}
