import type { ColumnType, Generated, Kysely } from 'kysely'
import type { CreatedAt, Decimal, UpdatedAt } from '../module-sql.js'
import type { TenantDatabase } from '../../tenancy/tenant-schema.js'


/** Kysely's view of the tables of tenant-migrations/modules/crm/ (a type alias: `withTables` needs an index-compatible type). */
export type CrmTables = {
  customers: CustomerTable
  products: ProductTable
  leads: LeadTable
}

/** A tenant database with the CRM module installed. */
export type CrmDb = Kysely<TenantDatabase & CrmTables>

export interface CustomerTable {
  id: Generated<string>
  name: string
  email: string | null
  phone: string | null
  company: string | null
  notes: string | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface ProductTable {
  id: Generated<string>
  name: string
  type: string
  price: Decimal
  currency: string
  active: Generated<boolean>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export const leadStatuses = ['new', 'contacted', 'qualified', 'won', 'lost'] as const
export type LeadStatus = (typeof leadStatuses)[number]

export interface LeadTable {
  id: Generated<string>
  customer_id: string | null
  product_id: string | null
  status: ColumnType<LeadStatus, LeadStatus | undefined, LeadStatus>
  first_name: string
  last_name: string | null
  email: string | null
  phone: string | null
  source: string | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}
