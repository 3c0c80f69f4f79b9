import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationRow, TenantStatus } from '../catalog/catalog-schema.js'
import { InvalidTransition, ValidationError } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, OperationRunner } from '../operations/operation-runner.js'
import { dropTenantDatabaseAndRole } from '../provisioning/provision-tenant.js'
import type { TenantDirectory, TenantRecord } from './tenant-directory.js'

export interface LifecycleDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  hosts: HostRegistry
  operations: OperationRunner
}

/**
 * Runbook 002's lifecycle: suspend, reactivate, cancel (retention period), delete (soft keeps
 * the database; hard drops database and role). Each transition is a guarded UPDATE, so two
 * operators racing cannot both win, and a refused transition says what would be allowed.
 *
 * @example
 *   await lifecycle.suspend('acme', 'payment failure')
 *   await lifecycle.reactivate('acme')
 */
export class TenantLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  async suspend(key: string, reason?: string): Promise<TenantRecord> {
    return this.#transition(key, ['active'], 'suspended', { status_reason: reason?.trim() || 'suspended by an operator' }, 'only active tenants can be suspended')
  }

  async reactivate(key: string): Promise<TenantRecord> {
    return this.#transition(key, ['suspended', 'canceled', 'deleted'], 'active', { status_reason: null, canceled_at: null, deleted_at: null }, 'only suspended, canceled or soft-deleted tenants can be reactivated')
  }

  async cancel(key: string, retentionDays?: number): Promise<TenantRecord> {
    if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 0 || retentionDays > 3650)) {
      throw new ValidationError('retentionDays must be a whole number of days from 0 to 3650')
    }
    return this.#transition(
      key,
      ['active', 'suspended'],
      'canceled',
      { status_reason: 'canceled', canceled_at: new Date(), ...(retentionDays !== undefined ? { retention_days: retentionDays } : {}) },
      'only active or suspended tenants can be canceled'
    )
  }

  /** Soft delete: traffic refused, database kept (reactivate brings it back). */
  async softDelete(key: string): Promise<TenantRecord> {
    return this.#transition(key, ['active', 'suspended', 'canceled', 'failed'], 'deleted', { deleted_at: new Date(), status_reason: 'deleted' }, 'this tenant cannot be deleted now')
  }

  /**
   * Hard delete: an operation that drops the database and the role. Refused unless the
   * tenant was canceled and its retention period has passed, or force is given.
   */
  async requestHardDelete(key: string, force: boolean, actorId?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(key)
    if (tenant.status === 'provisioning') {
      throw new InvalidTransition(`tenant "${tenant.slug}" is still being provisioned; wait for it, or roll back its operation`)
    }
    if (!force) {
      if (tenant.canceled_at === null) {
        throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; hard delete needs it canceled first and its retention period (${tenant.retention_days} days) passed, or force: true`)
      }
      const until = new Date(new Date(tenant.canceled_at).getTime() + tenant.retention_days * 86_400_000)
      if (until.getTime() > Date.now()) {
        throw new InvalidTransition(`tenant "${tenant.slug}" is in its retention period until ${until.toISOString()}; hard delete then, or give force: true`)
      }
    }
    const operation = await this.deps.operations.enqueue('delete', tenant.id, { slug: tenant.slug, force }, actorId)
    return { tenant, operation }
  }

  async #transition(
    key: string,
    from: TenantStatus[],
    to: TenantStatus,
    fields: Partial<{ status_reason: string | null; canceled_at: Date | null; deleted_at: Date | null; retention_days: number }>,
    rule: string
  ): Promise<TenantRecord> {
    const tenant = await this.deps.tenants.get(key)
    const updated = await this.deps.catalog
      .updateTable('tenants')
      .set({ status: to, ...fields, updated_at: new Date() })
      .where('id', '=', tenant.id)
      .where('status', 'in', from)
      .returning('id')
      .executeTakeFirst()
    if (!updated) throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; ${rule}`)
    this.deps.tenants.invalidate(tenant.id)
    return this.deps.tenants.get(tenant.id)
  }
}

/** The hard-delete operation: dropDatabase (sessions closed first), then purge the record. */
export function deleteTenantHandler(deps: LifecycleDeps & { onPurged?: (tenantId: string) => Promise<void> }): OperationHandler {
  return {
    kind: 'delete',
    steps: [
      {
        name: 'closePools',
        async run(context) {
          const id = context.operation.tenant_id!
          await deps.catalog.updateTable('tenants').set({ status: 'deleted', deleted_at: new Date(), status_reason: 'being deleted', updated_at: new Date() }).where('id', '=', id).execute()
          deps.tenants.invalidate(id)
          await deps.onPurged?.(id)
        },
      },
      {
        name: 'dropDatabase',
        async run(context) {
          const tenant = await deps.catalog.selectFrom('tenants').selectAll().where('id', '=', context.operation.tenant_id!).executeTakeFirstOrThrow()
          await dropTenantDatabaseAndRole(deps.hosts, tenant)
        },
      },
      {
        name: 'purgeRecord',
        async run(context) {
          const id = context.operation.tenant_id!
          await deps.catalog.updateTable('tenants').set({ status: 'deleted', status_reason: 'hard deleted', purged_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute()
          deps.tenants.invalidate(id)
        },
      },
    ],
  }
}
