/*
 * The JSON shapes the panel reads: tenantctl's (src/cli/api-types.ts) and the route schemas'
 * (src/http/schemas, through Static<>), both type-only so nothing of the server is bundled,
 * plus the few neither types. The one value taken from src/cli/api-types.ts is
 * `operationState`, a pure function with no imports.
 */
import type { Static } from 'typebox'
import type { MigrationMatrixSchema, MigrationRunSchema, MigrationRunSummarySchema, MigrationRunTenantSchema } from '../../../src/http/schemas/migration-schemas.js'
import type { MoveSchema } from '../../../src/http/schemas/move-schemas.js'
import type { RestoreRecordSchema } from '../../../src/http/schemas/backup-schemas.js'
import type { Backup, Tenant, TenantDomain } from '../../../src/cli/api-types.js'
import type { TenantUserSchema } from '../../../src/http/schemas/auth-schemas.js'
export { operationState } from '../../../src/cli/api-types.js'
/** GET /api/admin/operators (items) */
export type { Operator } from '../../../src/auth/operator-service.js'

export type {
  AuditEntry,
  Backup,
  DatabaseHost,
  EdgeStatus,
  HostDrainResult,
  HostUsage,
  Operation,
  Page,
  Plan,
  SessionUser,
  Tenant,
  TenantDomain,
  TenantListItem,
  TokenPair,
} from '../../../src/cli/api-types.js'

/** GET /api/admin/tenants/:id/moves */
export type TenantMove = Static<typeof MoveSchema>
/** GET /api/admin/migrations/status */
export type MigrationMatrix = Static<typeof MigrationMatrixSchema>
/** GET /api/admin/migrations/runs/:id */
export type MigrationRun = Static<typeof MigrationRunSchema>
export type MigrationRunTenant = Static<typeof MigrationRunTenantSchema>
/** GET /api/admin/migrations/runs */
export type MigrationRunSummary = Static<typeof MigrationRunSummarySchema>
/** A restore that swapped a database in (POST .../restore?wait=true). */
export type RestoreRecord = Static<typeof RestoreRecordSchema>

/** GET/POST /api/users: a tenant's own user (tenant side). */
export type TenantUser = Static<typeof TenantUserSchema>

/** GET /api/tenants/current: the public fields of the tenant an address resolves to. */
export interface CurrentTenant {
  id: string
  slug: string
  subdomain: string
  name: string
  plan: string
  status: string
  /** The logo on this address (public), or null. */
  logoUrl: string | null
}

/** GET /api/admin/tenants/:id/branding, GET /api/tenants/current/branding */
export interface Branding {
  name: string
  logo: { contentType: string; sizeBytes: number; sha256: string; updatedAt: string } | null
}

/** GET /api/admin/tenants/:id/restores */
export interface RestoreList {
  keepHours: number
  items: Array<{
    id: string
    backupId: string
    operationId: string | null
    database: string
    previousDatabase: string
    restoredAt: string
    keptUntil: string
    previousDroppedAt: string | null
    undoable: boolean
  }>
}

/** GET /api/admin/tenants/:id/size-history */
export interface SizeHistory {
  tenantId: string
  days: number
  resolution: 'hour' | 'day'
  sampleMinutes: number
  items: Array<{ at: string; bytes: number }>
}

/** GET /api/admin/modules */
export interface Module {
  name: string
  version: string
  description: string
  dependencies: string[]
  tables: string[]
}

/** GET /api/admin/tenants/:id/modules */
export interface InstalledModule {
  name: string
  version: string
  installedAt: string
  updatedAt: string
}

/** Answers of long work: 202 with the operation to follow. */
export interface OperationStarted {
  operationId: string
}

/** POST /api/admin/tenants/:id/restore with asNewTenant: the clone, provisioning. */
export interface CloneStarted extends OperationStarted {
  tenant: Tenant
  backupId: string
}

/** POST /api/admin/tenants/:id/backups/:backupId/verify */
export interface BackupCheck {
  ok: boolean
  reason?: string
  backup: Backup
}

/** POST /api/admin/tenants/:id/domains */
export interface DomainAdded {
  domain: TenantDomain
  instructions: string
}

/** POST /api/admin/migrations/run (202) */
export interface MigrationRunStarted extends OperationStarted {
  runId: string
}
