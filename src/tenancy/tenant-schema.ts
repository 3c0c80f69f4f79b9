import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

/** Kysely's view of a tenant database made by tenant-migrations/base/. */
export interface TenantDatabase {
  users: TenantUserTable
  settings: TenantSettingTable
  tenant_migrations: TenantMigrationTable
}

export interface TenantUserTable {
  id: Generated<string>
  email: string
  name: Generated<string>
  password_hash: string
  role: 'admin' | 'member'
  permissions: ColumnType<string[], string[] | undefined, string[]>
  active: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface TenantSettingTable {
  key: string
  value: ColumnType<unknown, string, string>
  updated_at: Timestamp
}

export interface TenantMigrationTable {
  scope: string
  name: string
  checksum: string
  applied_at: Timestamp
}
