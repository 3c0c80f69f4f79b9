/*
 * The JSON shapes tenantctl reads from the tenantd API (shared/API.md).
 * Only the fields the CLI prints are typed; `--json` passes the full answer through untouched.
 */

export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'canceled' | 'deleted' | 'failed'
export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled_back'

export interface Tenant {
  id: string
  slug: string
  subdomain: string
  name: string
  contactEmail: string | null
  plan: string
  status: TenantStatus
  statusReason: string | null
  hostId: string | null
  hostName: string | null
  database: string | null
  retentionDays: number | null
  canceledAt: string | null
  deletedAt: string | null
  createdAt: string
  updatedAt: string
}

/** A tenant as `GET /api/admin/tenants` lists it. */
export interface TenantListItem extends Tenant {
  modules: string[]
  sizeBytes: number | null
  lastBackup: { id: string; state: string; at: string; sizeBytes: number | null } | null
}

export interface Operation {
  id: string
  kind: string
  tenantId: string | null
  tenantSlug?: string | null
  status: OperationStatus
  step: string | null
  /** 0..100 */
  progress: number
  error: string | null
  attempts: number
  createdAt: string
  updatedAt: string
  finishedAt: string | null
}

/**
 * An operation's state as tenantctl and the panel show it: `failing` while a failed operation
 * puts its partial work back (the server keeps it `running`, with its error, until that is
 * done and only then reads `failed`; a retry is refused meanwhile). The one function here, so
 * the panel can import it without bundling anything of the server.
 */
export function operationState(operation: Pick<Operation, 'status' | 'error'>): string {
  return operation.status === 'running' && operation.error ? 'failing' : operation.status
}

/** GET /api/admin/hosts/usage (items) */
export interface HostUsage {
  id: string
  name: string
  ok: boolean
  error?: string
  connections: { used: number; max: number } | null
  tenantDatabases: number
  tenantBytes: number | null
}

export interface DatabaseHost {
  id: string
  name: string
  host: string
  port: number
  adminUser: string
  maxTenants: number | null
  status: 'active' | 'draining' | 'removed'
  isDefault: boolean
  tenantCount: number
}

/** POST /api/admin/hosts/:id/drain {moveTenants: true} */
export interface HostDrainResult {
  host: DatabaseHost
  moved: number
  failed: number
  skipped: number
  tenants: Array<{ tenant: string; status: 'moved' | 'failed' | 'skipped'; to: string | null; operationId: string | null; error: string | null }>
}

export interface AuditEntry {
  id: string
  createdAt: string
  actorType: string
  actorEmail: string | null
  tenantId: string | null
  action: string
  target: string | null
  ip: string | null
  details: unknown
}

export interface TenantUser {
  id: string
  email: string
  name: string | null
  role: string
  createdAt?: string
}

export interface SessionUser {
  id: string
  email: string
  name: string | null
  role: string
  tenantId: string | null
}

/** `POST /api/auth/login` and `POST /api/auth/refresh`. */
export interface TokenPair {
  accessToken: string
  refreshToken: string
  expiresIn: number
  user?: SessionUser
}

/** A page of a list endpoint: `{ items, total, limit, offset }`. */
export interface Page<T> {
  items: T[]
  total?: number
  limit?: number
  offset?: number
}

/** A tenant's custom domain (GET /api/admin/tenants/:id/domains). */
export interface TenantDomain {
  domain: string
  status: 'pending' | 'verified'
  verifiedAt: string | null
  lastCheckedAt: string | null
  lastError: string | null
  createdAt: string
  verification: { url: string; path: string; expectedBody: string }
}

/** GET /api/admin/edge. */
export interface EdgeStatus {
  apply: 'off' | 'reload' | 'admin-api'
  mode: 'blocks' | 'on-demand'
  file: string
  template: string
  caddy: { found: boolean; version: string | null; admin: string; reloads: 'on' | 'off' }
  generation: { current: number; rendered: number; applied: number }
  upToDate: boolean
  reloads: number
  addresses: number | null
  lastRenderAt: string | null
  lastReloadAt: string | null
  lastError: string | null
  lastErrorAt: string | null
}

/** A backup of a tenant database (GET /api/admin/tenants/:id/backups). */
export interface Backup {
  id: string
  tenantId: string
  state: 'running' | 'completed' | 'verified' | 'failed' | 'pruned'
  database: string
  storageTarget: string
  storageKey: string
  sizeBytes: number | null
  sha256: string | null
  dumpBytes: number | null
  serverVersion: string | null
  pgDumpVersion: string | null
  tenantdVersion: string
  rowCounts: Record<string, number> | null
  migrations: Array<{ scope: string; name: string }> | null
  error: string | null
  operationId: string | null
  createdAt: string
  completedAt: string | null
  verifiedAt: string | null
  reason: 'manual' | 'scheduled' | 'final'
  slotAt: string | null
  testRestoredAt: string | null
  testRestoreError: string | null
  prunedAt: string | null
}

/** GET /api/admin/plans */
export interface Plan {
  id: string
  name: string
  maxConnections: number
  poolSize: number
  maxUsers: number | null
  storageMb: number | null
  apiCallsPerMonth: number | null
  tenantCount: number
  /** Credentials rotate every N days; null never. */
  credentialRotationDays: number | null
  backup: { schedule: string | null; retentionDays: number; keepDaily: number; keepWeekly: number; keepMonthly: number }
}

/** POST /api/admin/backups/run-all?wait=true */
export interface SlotResult {
  schedule: string
  slotAt: string
  tenants: number
  backedUp: number
  failed: Array<{ tenant: string; error: string }>
  testRestored: number
}

/** GET /api/admin/backups/schedule */
export interface BackupScheduleStatus {
  schedules: Array<{ cron: string; plans: string[]; nextRunAt: string | null }>
  timezone: string
  concurrency: number
  hostConcurrency: number
  recentSlots: Array<{ schedule: string; slotAt: string; claimedBy: string; tenants: number; failed: number; finishedAt: string | null }>
}

/** A backup retention prunes, or would (POST /api/admin/backups/prune). */
export interface PrunedBackup {
  backupId: string
  tenantId: string
  tenantSlug: string
  createdAt: string
  state: Backup['state']
  sizeBytes: number | null
  reason: string
}

export interface PruneBackupsResult {
  dryRun: boolean
  items: PrunedBackup[]
  prunedCount: number
  freedBytes: number
}

/** POST /api/admin/tenants/restore: a JSON export imported as a new tenant. */
export interface TenantImportResult {
  tenant: Tenant
  operationId: string
  tables: Array<{ name: string; rows: number }>
  rows: number
  bytes: number
}

/** The trailer that ends a JSON export (GET /api/tenants/export). */
export interface TenantExportTrailer {
  rows: Record<string, number>
  sha256: string
}
