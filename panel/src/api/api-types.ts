/*
 * The JSON shapes the panel reads: tenantctl's (src/cli/api-types.ts, type-only, so nothing of
 * the server is bundled) plus the few the CLI does not type.
 */
export type {
  AuditEntry,
  Backup,
  DatabaseHost,
  EdgeStatus,
  Operation,
  Page,
  Plan,
  SessionUser,
  Tenant,
  TokenPair,
} from '../../../src/cli/api-types.js'

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

/** GET /api/ready */
export interface Readiness {
  status: string
  catalog: { ok: boolean; error?: string }
  hosts: Array<{ id: string; name: string; ok: boolean; error?: string }>
}

/** Answers of long work: 202 with the operation to follow. */
export interface OperationStarted {
  operationId: string
}
