import type { CatalogDb } from '../catalog/catalog-db.js'
import type { TenantMoveRow } from '../catalog/catalog-schema.js'
import { Conflict, MoveNotRollbackable, ValidationError } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { OperationRow } from '../catalog/catalog-schema.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { keptDatabaseName } from './move-database.js'
import type { MoveParams } from './move-operation.js'

export interface MoveServiceDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  operations: OperationRunner
}

/** A move as the API shows it. */
export interface TenantMove {
  id: string
  tenantId: string
  operationId: string | null
  sourceHostId: string
  targetHostId: string
  method: 'logical' | 'frozen-copy'
  methodReason: string | null
  keptDatabase: string
  state: 'kept' | 'rolled_back' | 'dropped'
  movedAt: string
  freezeMs: number | null
  rollbackUntil: string
  droppedAt: string | null
}

/**
 * Starts moves of tenants between db hosts and their rollbacks; the work itself is the durable
 * `move` operation (move-operation.ts). This checks and enqueues.
 *
 * @example
 *   const { operation } = await moves.requestMove('acme', 'db2', operatorId)
 *   await operations.execute(operation.id)
 */
export class MoveService {
  constructor(private readonly deps: MoveServiceDeps) {}

  /** Checks the target can take the tenant, then enqueues its `move` operation. */
  async requestMove(tenantKey: string, targetHostKey: string, createdBy?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    const target = await this.deps.hosts.row(targetHostKey)
    if (!['active', 'suspended'].includes(tenant.status)) throw new Conflict(`tenant "${tenant.slug}" is ${tenant.status}; only active or suspended tenants are moved`)
    if (target.id === tenant.host_id) throw new ValidationError(`tenant "${tenant.slug}" is already on db host "${target.name}"`)
    const source = await this.deps.hosts.row(tenant.host_id)
    if (source.host === target.host && source.port === target.port) {
      throw new ValidationError(`db hosts "${source.name}" and "${target.name}" are the same server (${target.host}:${target.port}); a move needs another server`)
    }
    const host = await this.deps.hosts.get(target.id)
    if (host.status !== 'active') throw new Conflict(`db host "${host.name}" is draining and takes no tenants; choose another`)
    if (host.maxTenants !== null && host.tenantCount >= host.maxTenants) throw new Conflict(`db host "${host.name}" is full (${host.maxTenants} tenants)`)
    return { tenant, operation: await this.#enqueue(tenant, target.id, createdBy) }
  }

  /**
   * Returns a tenant to the source of its last move, with every write made since (it is moved
   * back, by the same operation, and the stale kept copy dropped), or says precisely why not.
   */
  async requestRollback(tenantKey: string, createdBy?: string | null): Promise<{ tenant: TenantRecord; move: TenantMove; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    const last = await this.deps.catalog.selectFrom('tenant_moves').selectAll().where('tenant_id', '=', tenant.id).orderBy('moved_at', 'desc').limit(1).executeTakeFirst()
    if (!last) throw new MoveNotRollbackable(`tenant "${tenant.slug}" was never moved; there is nothing to roll back`)
    const when = new Date(last.moved_at).toISOString()
    if (last.state === 'rolled_back') throw new MoveNotRollbackable(`the last move of "${tenant.slug}" (${when}) was already rolled back`)
    if (last.state === 'dropped' || last.dropped_at) {
      throw new MoveNotRollbackable(`the source database of the move of "${tenant.slug}" on ${when} was dropped at ${new Date(last.dropped_at ?? last.rollback_until).toISOString()} (kept for TENANTD_MOVE_KEEP_HOURS); move the tenant with \`tenantctl move ${tenant.slug} --to <host>\` instead`)
    }
    if (new Date(last.rollback_until).getTime() < Date.now()) {
      throw new MoveNotRollbackable(`the rollback window of the move of "${tenant.slug}" on ${when} ended at ${new Date(last.rollback_until).toISOString()}; its kept database is about to be dropped`)
    }
    if (tenant.host_id !== last.target_host_id) throw new MoveNotRollbackable(`tenant "${tenant.slug}" is no longer on the host its last move took it to`)
    const operation = await this.#enqueue(tenant, last.source_host_id, createdBy, last.id)
    return { tenant, move: toMove(last), operation }
  }

  /** Moves of a tenant, newest first. */
  async list(tenantKey: string): Promise<{ tenant: TenantRecord; items: TenantMove[] }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    const rows = await this.deps.catalog.selectFrom('tenant_moves').selectAll().where('tenant_id', '=', tenant.id).orderBy('moved_at', 'desc').limit(50).execute()
    return { tenant, items: rows.map(toMove) }
  }

  async byOperation(operationId: string): Promise<TenantMove | undefined> {
    const row = await this.deps.catalog.selectFrom('tenant_moves').selectAll().where('operation_id', '=', operationId).executeTakeFirst()
    return row && toMove(row)
  }

  async #enqueue(tenant: TenantRecord, targetHostId: string, createdBy?: string | null, rollbackOf?: string): Promise<OperationRow> {
    const at = new Date()
    const params: MoveParams = {
      sourceHostId: tenant.host_id,
      targetHostId,
      slot: `tenantd_move_${at.getTime().toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
      keptDatabase: keptDatabaseName(tenant.database_name, at),
      ...(rollbackOf ? { rollbackOf } : {}),
    }
    return this.deps.operations.enqueue('move', tenant.id, { ...params }, createdBy ?? null)
  }
}

export function toMove(row: TenantMoveRow): TenantMove {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    operationId: row.operation_id,
    sourceHostId: row.source_host_id,
    targetHostId: row.target_host_id,
    method: row.method,
    methodReason: row.method_reason,
    keptDatabase: row.kept_database,
    state: row.state,
    movedAt: new Date(row.moved_at).toISOString(),
    freezeMs: row.freeze_ms,
    rollbackUntil: new Date(row.rollback_until).toISOString(),
    droppedAt: row.dropped_at ? new Date(row.dropped_at).toISOString() : null,
  }
}
