import { open, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { AuditLog } from '../audit/audit-log.js'
import { tenantdVersion } from '../backups/pg-client-tools.js'
import { Conflict, ExportNewerThanCode, OperationFailed, TenantExists } from '../errors.js'
import type { Logger } from '../logger.js'
import { readBaseMigrations, readModuleMigrations } from '../migrations/tenant-migrator.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { Provisioner } from '../provisioning/provisioner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { Tenant, TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { withTenantClient } from '../tenancy/tenant-connection.js'
import type { TenantLifecycle } from '../tenancy/tenant-lifecycle.js'
import type { ExportedMigration, ExportedTenant } from './export-format.js'
import { loadExport } from './export-loader.js'
import { ExportScanner } from './export-scanner.js'
import { ExportValidator, type ExportSummary } from './export-validator.js'
import { openTenantExport, type TenantExportStream } from './export-writer.js'

export interface TenantExportDeps {
  tenants: TenantDirectory
  sealer: SecretSealer
  provisioner: Provisioner
  operations: OperationRunner
  lifecycle: TenantLifecycle
  modules: ModuleRegistry
  audit: AuditLog
  /** tenant-migrations/ (base/ and modules/). */
  migrationsDir: string
  log: Logger
}

/** Where an import puts the tenant: the export's slug, subdomain and name unless given. */
export interface ImportOverrides {
  slug?: string
  subdomain?: string
  name?: string
  plan?: string
}

export interface ImportResult {
  tenant: Tenant
  operationId: string
  tables: Array<{ name: string; rows: number }>
  rows: number
  bytes: number
}

/**
 * JSON export and import of whole tenants (runbook 002, "Export Data"): export-format.ts is
 * the document, export-writer.ts writes it, and import() recreates a tenant from it, on this
 * tenantd or another.
 *
 * Import reads the body twice, never holding it: first into a private spool file (mode 0600,
 * under TMPDIR) while it is validated (format, version, shape, migrations and modules this
 * code has, slug free, trailer counts and digest), so a truncated, damaged or foreign document
 * is refused before anything is created; then from that file into a tenant provisioned the
 * normal way (same migrations, the export's modules), in one transaction. A failure after
 * provisioning hard-deletes the new tenant, so nothing half-made stays behind.
 *
 * @example
 *   const { stream } = await service.exportTenant(tenant)
 *   const result = await service.importTenant(request.raw, { slug: 'acme-copy' }, actorId)
 */
export class TenantExportService {
  constructor(private readonly deps: TenantExportDeps) {}

  /** Opens a consistent export of a tenant; refused while it is being provisioned or after a failed provision. */
  async exportTenant(tenant: TenantRecord, onDone?: (outcome: { ok: boolean; rows: number; error?: Error }) => void): Promise<TenantExportStream> {
    if (tenant.status === 'provisioning' || tenant.status === 'failed') {
      throw new Conflict(`tenant "${tenant.slug}" is ${tenant.status}; only a provisioned tenant can be exported`)
    }
    return openTenantExport(tenant, this.deps.sealer, {
      tenantdVersion: tenantdVersion(),
      onDone: (outcome) => {
        if (!outcome.ok) this.deps.log.warn({ tenantId: tenant.id, rows: outcome.rows, err: outcome.error ? { message: outcome.error.message } : undefined }, 'tenant export ended early')
        onDone?.(outcome)
      },
    })
  }

  /**
   * Recreates a tenant from an export read from `body`. On a refusal the rest of the body is
   * read and dropped (not destroyed), so the client still gets the answer.
   */
  async importTenant(body: Readable, overrides: ImportOverrides, actorId?: string | null): Promise<ImportResult> {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-import-'))
    try {
      let summary: ExportSummary
      let bytes = 0
      try {
        ;({ summary, bytes } = await this.#spool(body, path.join(dir, 'export.json'), overrides))
      } catch (error) {
        body.resume()
        throw error
      }
      return await this.#recreate(summary, path.join(dir, 'export.json'), bytes, overrides, actorId)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  /** Pass 1: body → spool file, validated on the way. */
  async #spool(body: Readable, file: string, overrides: ImportOverrides): Promise<{ summary: ExportSummary; bytes: number }> {
    const checks: Array<Promise<void>> = []
    const validator = new ExportValidator((key, value) => {
      const check = key === 'tenant' ? this.#assertSlugFree(target(value as ExportedTenant, overrides)) : this.#assertKnownMigrations(value as ExportedMigration[])
      // Awaited after this chunk; if the chunk itself fails first, that error is the answer.
      check.catch(() => {})
      checks.push(check)
    })
    const scanner = new ExportScanner(validator, { digest: true })
    const handle = await open(file, 'wx', 0o600)
    try {
      for await (const chunk of body.iterator({ destroyOnReturn: false })) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        scanner.write(buffer)
        if (checks.length) await Promise.all(checks.splice(0))
        await handle.write(buffer)
      }
    } finally {
      await handle.close()
    }
    scanner.end()
    const summary = validator.finish(scanner.digest())
    const unknownModules = summary.tenant.modules.filter((m) => !this.deps.modules.has(m))
    if (unknownModules.length) {
      throw new ExportNewerThanCode(`the export's tenant has modules this tenantd does not know (${unknownModules.join(', ')}); upgrade tenantd`)
    }
    return { summary, bytes: scanner.offset }
  }

  /** Pass 2: provision, load, and undo the tenant if loading fails. */
  async #recreate(summary: ExportSummary, file: string, bytes: number, overrides: ImportOverrides, actorId?: string | null): Promise<ImportResult> {
    const { tenants, provisioner, operations, lifecycle, audit } = this.deps
    const where = target(summary.tenant, overrides)
    const { tenant, operation } = await provisioner.request(
      {
        name: where.name,
        slug: where.slug,
        ...(where.subdomain ? { subdomain: where.subdomain } : {}),
        ...(summary.tenant.contactEmail ? { contactEmail: summary.tenant.contactEmail } : {}),
        plan: overrides.plan ?? summary.tenant.plan,
        modules: summary.tenant.modules,
      },
      actorId
    )
    const provisioned = await operations.settle(operation.id)
    if (provisioned.status !== 'succeeded') {
      await operations.rollback(operation.id).catch((error: Error) => this.deps.log.error({ err: { message: error.message }, tenantId: tenant.id }, 'could not roll back the provision of an import'))
      throw new OperationFailed(`provisioning the imported tenant "${where.slug}" failed at ${provisioned.step ?? '?'}: ${provisioned.error ?? 'no error recorded'}; it was rolled back`)
    }
    let counts: Record<string, number>
    try {
      counts = await withTenantClient(await tenants.get(tenant.id), this.deps.sealer, (client) => loadExport(client, file, summary))
    } catch (error) {
      await this.#undo(tenant, actorId)
      throw error
    }
    await audit.record({
      actorType: 'operator',
      actorId: actorId ?? null,
      tenantId: tenant.id,
      action: 'tenant.import',
      target: tenant.slug,
      details: { from: summary.tenant.slug, sourceTenantId: summary.source?.tenantId ?? null, rows: Object.values(counts).reduce((a, b) => a + b, 0), bytes, operationId: operation.id },
    })
    return {
      tenant: tenants.toApi(await tenants.get(tenant.id)),
      operationId: operation.id,
      tables: Object.entries(counts).map(([name, rows]) => ({ name, rows })),
      rows: Object.values(counts).reduce((a, b) => a + b, 0),
      bytes,
    }
  }

  /** Removes a tenant whose import failed after provisioning: database, role, catalog record. */
  async #undo(tenant: TenantRecord, actorId?: string | null): Promise<void> {
    try {
      const { operation } = await this.deps.lifecycle.requestHardDelete(tenant.id, true, actorId)
      const done = await this.deps.operations.settle(operation.id)
      if (done.status !== 'succeeded') throw new Error(`delete operation ${operation.id} ${done.status}: ${done.error ?? ''}`)
    } catch (error) {
      this.deps.log.error({ err: { message: (error as Error).message }, tenantId: tenant.id }, 'could not remove the tenant of a failed import; delete it by hand (tenantctl delete --hard --force)')
    }
  }

  async #assertSlugFree(where: { slug: string; subdomain?: string }): Promise<void> {
    for (const key of [where.slug, where.subdomain ?? where.slug]) {
      const clash = await this.deps.tenants.find(key)
      if (clash) {
        throw new TenantExists(`a tenant with slug or subdomain "${key}" already exists (${clash.slug}); import with another: ?slug=&subdomain= (tenantctl import --slug --subdomain)`)
      }
    }
  }

  async #assertKnownMigrations(migrations: ExportedMigration[]): Promise<void> {
    const known = new Map<string, Set<string>>()
    const unknown: string[] = []
    for (const { scope, name } of migrations) {
      if (!known.has(scope)) {
        const files = scope === 'base' ? await readBaseMigrations(this.deps.migrationsDir) : this.deps.modules.has(scope) ? await readModuleMigrations(scope, this.deps.migrationsDir) : []
        known.set(scope, new Set(files.map((f) => f.name)))
      }
      if (!known.get(scope)!.has(name)) unknown.push(`${scope}/${name}`)
    }
    if (unknown.length) {
      throw new ExportNewerThanCode(`the export was made with migrations this tenantd does not have (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}), so its tables may not exist here; import it with a tenantd at least as new as the one that made it`)
    }
  }
}

/** Slug, subdomain and name of the imported tenant. A new slug alone also gives a new subdomain (the slug). */
function target(tenant: ExportedTenant, overrides: ImportOverrides): { slug: string; subdomain?: string; name: string } {
  const slug = overrides.slug ?? tenant.slug
  const subdomain = overrides.subdomain ?? (overrides.slug ? undefined : tenant.subdomain)
  return { slug, ...(subdomain ? { subdomain } : {}), name: overrides.name ?? tenant.name }
}
