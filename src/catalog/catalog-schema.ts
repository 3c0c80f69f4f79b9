import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Json = ColumnType<unknown, string | undefined, string>

/** Kysely's view of the catalog tables made by control-migrations/. */
export interface CatalogDatabase {
  db_hosts: DbHostTable
  plans: PlanTable
  tenants: TenantTable
  operations: OperationTable
  operators: OperatorTable
  refresh_tokens: RefreshTokenTable
  login_attempts: LoginAttemptTable
  audit_logs: AuditLogTable
  tenant_modules: TenantModuleTable
  tenant_domains: TenantDomainTable
  edge_generation: EdgeGenerationTable
  edge_state: EdgeStateTable
  migration_runs: MigrationRunTable
  migration_run_tenants: MigrationRunTenantTable
  backups: BackupTable
  backup_restores: BackupRestoreTable
  backup_slots: BackupSlotTable
  tenant_moves: TenantMoveTable
  tenant_logos: TenantLogoTable
  tenant_size_samples: TenantSizeSampleTable
}

export interface TenantModuleTable {
  tenant_id: string
  module: string
  version: string
  installed_at: Timestamp
  updated_at: Timestamp
}

export interface DbHostTable {
  id: Generated<string>
  name: string
  host: string
  port: number
  admin_user: string
  admin_password_sealed: string
  admin_database: Generated<string>
  max_tenants: number | null
  status: Generated<'active' | 'draining' | 'removed'>
  /** control-migrations/0012 */
  removed_at: NullableTimestamp
  is_default: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
  /** Concurrent migration connections the host takes (control-migrations/0003). */
  connection_budget: Generated<number>
}

export interface PlanTable {
  id: string
  name: string
  max_connections: number
  pool_size: number
  max_users: number | null
  storage_mb: number | null
  api_calls_per_month: number | null
  /** Cron expression of the plan's scheduled backups; null: TENANTD_BACKUP_SCHEDULE (control-migrations/0007). */
  backup_schedule: string | null
  /** Backups younger than this are kept whatever the counts below say. */
  backup_retention_days: Generated<number>
  /** Grandfather-father-son: the newest backup of each of the last N days, ISO weeks and months is kept. */
  backup_keep_daily: Generated<number>
  backup_keep_weekly: Generated<number>
  backup_keep_monthly: Generated<number>
  /** Scheduled credential rotation every N days; null never (control-migrations/0009). */
  credential_rotation_days: Generated<number | null>
}

export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'canceled' | 'deleted' | 'failed'

export interface TenantTable {
  id: Generated<string>
  slug: string
  subdomain: string
  name: string
  contact_email: string
  plan_id: string
  status: TenantStatus
  status_reason: string | null
  host_id: string
  database_name: string
  role_name: string
  password_sealed: string
  retention_days: Generated<number>
  canceled_at: NullableTimestamp
  deleted_at: NullableTimestamp
  purged_at: NullableTimestamp
  created_at: Timestamp
  updated_at: Timestamp
  /** Traffic answered 503 + Retry-After until then: a restore's swap, a move's cutover (control-migrations/0007). */
  frozen_until: NullableTimestamp
  frozen_reason: string | null
  /** The role pools and tools log in as; null: role_name (control-migrations/0009). password_sealed is its password. */
  login_role: Generated<string | null>
  /** A credential rotation under way: the login role being readied and its sealed password. */
  pending_login_role: Generated<string | null>
  pending_password_sealed: Generated<string | null>
  /** The login role switched away from, until its sessions drained and its login is gone. */
  previous_login_role: Generated<string | null>
  credentials_rotated_at: NullableTimestamp
  credentials_rotation_claimed_at: NullableTimestamp
}

export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled_back'

export interface OperationTable {
  id: Generated<string>
  kind: string
  tenant_id: string | null
  status: Generated<OperationStatus>
  step: string | null
  progress: Generated<number>
  params: ColumnType<Record<string, unknown>, string | undefined, string>
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  error: string | null
  attempts: Generated<number>
  claimed_by: string | null
  heartbeat_at: NullableTimestamp
  created_by: string | null
  created_at: Timestamp
  updated_at: Timestamp
  finished_at: NullableTimestamp
}

export interface OperatorTable {
  id: Generated<string>
  email: string
  name: Generated<string>
  password_hash: string
  role: 'super_admin' | 'tenant_admin'
  tenant_id: string | null
  created_at: Timestamp
  last_login_at: NullableTimestamp
}

export interface RefreshTokenTable {
  id: Generated<string>
  family_id: string
  token_hash: string
  subject_type: 'operator' | 'tenant_user'
  subject_id: string
  tenant_id: string | null
  expires_at: Timestamp
  spent_at: NullableTimestamp
  revoked_at: NullableTimestamp
  created_at: Timestamp
}

export interface LoginAttemptTable {
  id: Generated<string>
  identifier: string
  tenant_id: string | null
  ip: string | null
  success: boolean
  reason: string | null
  attempted_at: Timestamp
}

export interface AuditLogTable {
  id: Generated<string>
  created_at: Timestamp
  actor_type: string
  actor_id: string | null
  actor_email: string | null
  tenant_id: string | null
  action: string
  target: string | null
  ip: string | null
  details: Json
}

export type DbHostRow = Selectable<DbHostTable>
export type PlanRow = Selectable<PlanTable>
export type TenantRow = Selectable<TenantTable>
export type NewTenantRow = Insertable<TenantTable>
export type TenantUpdate = Updateable<TenantTable>
export type OperationRow = Selectable<OperationTable>
export type OperatorRow = Selectable<OperatorTable>

export type MigrationRunStatus = 'pending' | 'running' | 'succeeded' | 'failed'
export type MigrationRunTenantStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped'

/** A fleet-wide migration run (control-migrations/0003). */
export interface MigrationRunTable {
  id: Generated<string>
  operation_id: string | null
  options: ColumnType<Record<string, unknown>, string | undefined, string>
  dry_run: Generated<boolean>
  status: Generated<MigrationRunStatus>
  totals: ColumnType<Record<string, number>, string | undefined, string>
  error: string | null
  created_by: string | null
  created_at: Timestamp
  finished_at: NullableTimestamp
}

/** One tenant's outcome within a migration run. */
export interface MigrationRunTenantTable {
  run_id: string
  tenant_id: string
  position: number
  status: Generated<MigrationRunTenantStatus>
  applied: ColumnType<string[], string[] | undefined, string[]>
  drift: ColumnType<string[], string[] | undefined, string[]>
  pending: ColumnType<string[], string[] | undefined, string[]>
  error: string | null
  started_at: NullableTimestamp
  finished_at: NullableTimestamp
}

export type MigrationRunRow = Selectable<MigrationRunTable>
export type MigrationRunTenantRow = Selectable<MigrationRunTenantTable>

export type TenantDomainStatus = 'pending' | 'verified'

/** A tenant's custom domain (control-migrations/0004). */
export interface TenantDomainTable {
  id: Generated<string>
  tenant_id: string
  domain: string
  status: Generated<TenantDomainStatus>
  verification_token: string
  verified_at: NullableTimestamp
  last_checked_at: NullableTimestamp
  last_error: string | null
  /** Failed re-checks in a row of a verified domain (control-migrations/0008). */
  failed_checks: Generated<number>
  created_at: Timestamp
  updated_at: Timestamp
}

export type TenantDomainRow = Selectable<TenantDomainTable>

/** The routing generation: bumped by triggers in the transaction of every routing change. */
export interface EdgeGenerationTable {
  id: Generated<boolean>
  generation: Generated<string | number>
}

/** What the edge syncer last rendered and applied (one row). */
export interface EdgeStateTable {
  id: Generated<boolean>
  rendered_generation: Generated<string | number>
  applied_generation: Generated<string | number>
  file_sha256: string | null
  reloads: Generated<string | number>
  last_render_at: Date | null
  last_reload_at: Date | null
  last_error: string | null
  last_error_at: Date | null
  updated_at: Generated<Date>
}
export type EdgeStateRow = Selectable<EdgeStateTable>

export type BackupState = 'running' | 'completed' | 'verified' | 'failed' | 'pruned'
/** Why a backup was taken: asked for, by the schedule, or the final one before a hard delete. */
export type BackupReason = 'manual' | 'scheduled' | 'final'

/** One backup file of one tenant database (control-migrations/0006). */
export interface BackupTable {
  id: Generated<string>
  tenant_id: string
  operation_id: string | null
  host_id: string
  database_name: string
  state: Generated<BackupState>
  storage_target: string
  storage_key: string
  size_bytes: ColumnType<string | null, number | null | undefined, number | null>
  sha256: string | null
  dump_bytes: ColumnType<string | null, number | null | undefined, number | null>
  server_version: string | null
  pg_dump_version: string | null
  tenantd_version: string
  row_counts: ColumnType<Record<string, number> | null, string | null | undefined, string | null>
  migrations: ColumnType<Array<{ scope: string; name: string }> | null, string | null | undefined, string | null>
  error: string | null
  created_by: string | null
  created_at: Timestamp
  completed_at: NullableTimestamp
  verified_at: NullableTimestamp
  /** control-migrations/0007 */
  reason: Generated<BackupReason>
  pruned_at: NullableTimestamp
  test_restored_at: NullableTimestamp
  test_restore_error: string | null
  slot_at: NullableTimestamp
  /** The file's data key sealed by the keyring, re-sealed by key rotation (control-migrations/0011). */
  data_key_sealed: Generated<string | null>
}
export type BackupRow = Selectable<BackupTable>

/** A scheduled slot claimed by one replica (control-migrations/0007). */
export interface BackupSlotTable {
  schedule: string
  slot_at: Date
  claimed_by: string
  claimed_at: Generated<Date>
  tenants: Generated<number>
  heartbeat_at: Generated<Date>
  failed: Generated<number>
  finished_at: NullableTimestamp
}

/** A restore that swapped a database in; the previous one is kept for undo. */
export interface BackupRestoreTable {
  id: Generated<string>
  tenant_id: string
  backup_id: string
  operation_id: string | null
  database_name: string
  previous_database: string
  restored_at: Timestamp
  previous_dropped_at: NullableTimestamp
}
export type BackupRestoreRow = Selectable<BackupRestoreTable>

/** Moves that switched a tenant to another host; the source database kept for rollback (control-migrations/0010). */
export interface TenantMoveTable {
  id: Generated<string>
  tenant_id: string
  operation_id: string | null
  source_host_id: string
  target_host_id: string
  method: 'logical' | 'frozen-copy'
  method_reason: string | null
  database_name: string
  kept_database: string
  state: Generated<'kept' | 'rolled_back' | 'dropped'>
  moved_at: Timestamp
  freeze_ms: number | null
  rollback_until: Timestamp
  rolled_back_at: NullableTimestamp
  dropped_at: NullableTimestamp
}
export type TenantMoveRow = Selectable<TenantMoveTable>

/** A tenant's logo: bytes checked by their signature on upload (control-migrations/0013). */
export interface TenantLogoTable {
  tenant_id: string
  content_type: 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif'
  bytes: Buffer
  sha256: string
  updated_at: Timestamp
}

/** A tenant database's size at one time (control-migrations/0013). */
export interface TenantSizeSampleTable {
  tenant_id: string
  sampled_at: Timestamp
  bytes: ColumnType<string, number | string, number | string>
}
