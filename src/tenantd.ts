import { AuditLog } from './audit/audit-log.js'
import { AuthService } from './auth/auth-service.js'
import { ensureFirstSuperAdmin } from './auth/first-operator.js'
import { OperatorService } from './auth/operator-service.js'
import { openCatalog, type Catalog } from './catalog/catalog-db.js'
import { migrateCatalog } from './catalog/control-migrator.js'
import type { Config } from './config.js'
import { startEmbeddedDefaults } from './embedded/embedded-bootstrap.js'
import type { EmbeddedCluster } from './embedded/embedded-cluster.js'
import type { DataDirLock } from './embedded/data-dir-lock.js'
import { HostRegistry } from './hosts/host-registry.js'
import { builtinModules } from './modules/builtin-modules.js'
import { installModulesHandler, uninstallModuleHandler } from './modules/module-installer.js'
import { ModuleRegistry } from './modules/module-registry.js'
import { ModuleService } from './modules/module-service.js'
import type { Logger } from './logger.js'
import { FleetMigrator } from './migrations/fleet-migrator.js'
import { OperationRunner, type OperationRunnerOptions } from './operations/operation-runner.js'
import { provisionHandler } from './provisioning/provision-tenant.js'
import { Provisioner } from './provisioning/provisioner.js'
import { TenantTemplates } from './provisioning/tenant-template.js'
import { SecretSealer } from './secrets/secret-sealer.js'
import { TenantDirectory } from './tenancy/tenant-directory.js'
import { DomainService } from './domains/domain-service.js'
import { DomainRecheck } from './domains/domain-recheck.js'
import { EdgeSync } from './edge/edge-sync.js'
import { deleteTenantHandler, TenantLifecycle } from './tenancy/tenant-lifecycle.js'
import { TenantPoolCache } from './tenancy/tenant-pool-cache.js'
import { tenantClientConfig } from './tenancy/tenant-connection.js'
import { backupHandler } from './backups/backup-operation.js'
import { BackupRecords } from './backups/backup-records.js'
import { BackupService } from './backups/backup-service.js'
import { BackupTargets } from './backups/backup-targets.js'
import { BackupPruner } from './backups/backup-pruner.js'
import { restoreHandler } from './backups/restore-operation.js'
import { restoreUndoHandler } from './backups/restore-undo-operation.js'
import { RestoreCleanup } from './backups/restore-cleanup.js'
import { moveHandler } from './moves/move-operation.js'
import { MoveCleanup } from './moves/move-cleanup.js'
import { StrandedMoves } from './moves/stranded-moves.js'
import { TenantBranding } from './tenancy/tenant-branding.js'
import { TenantSizeHistory } from './tenancy/tenant-size-history.js'
import { MoveService } from './moves/move-service.js'
import { HostDrain } from './moves/host-drain.js'
import { BackupScheduler } from './backups/backup-scheduler.js'
import { PlanCatalog } from './plans/plan-catalog.js'
import { testRestoreBackup } from './backups/backup-test-restore.js'
import { TenantExportService } from './tenant-export/tenant-export-service.js'
import { rotateCredentialsHandler } from './credentials/credential-rotation.js'
import { CredentialRotationService } from './credentials/credential-rotation-service.js'
import { KeyService, rotateKeysHandler } from './secrets/key-rotation.js'
import { assertKeyringComplete } from './secrets/key-status.js'

/** Every long-lived part of a running tenantd, wired together. Routes only call into these. */
export interface Tenantd {
  config: Config
  log: Logger
  catalog: Catalog
  sealer: SecretSealer
  jwtSecret: string
  hosts: HostRegistry
  tenants: TenantDirectory
  pools: TenantPoolCache
  audit: AuditLog
  operations: OperationRunner
  provisioner: Provisioner
  lifecycle: TenantLifecycle
  auth: AuthService
  operators: OperatorService
  modules: ModuleRegistry
  moduleService: ModuleService
  migrations: FleetMigrator
  /** Custom domains of tenants (add, verify, remove). */
  domains: DomainService
  /** Periodic re-verification of verified custom domains. */
  domainRecheck: DomainRecheck
  /** The Caddyfile renderer and Caddy reloader. */
  edge: EdgeSync
  /** Backups of tenant databases: back up, list, verify, restore. */
  backups: BackupService
  /** Drops the databases restores kept for undo once TENANTD_RESTORE_KEEP_HOURS passed. */
  restoreCleanup: RestoreCleanup
  /** Moves of tenants between db hosts, and their rollbacks. */
  moves: MoveService
  /** Drains a host by moving its tenants off it. */
  hostDrain: HostDrain
  /** Drops the source databases moves kept for rollback once TENANTD_MOVE_KEEP_HOURS passed. */
  moveCleanup: MoveCleanup
  /** Rolls back moves whose cutover failed with their source unreachable, once it answers again. */
  strandedMoves: StrandedMoves
  /** Scheduled backups of the fleet (node-cron, one replica per slot), test restores. */
  backupScheduler: BackupScheduler
  /** Plans: limits and backup policy. */
  plans: PlanCatalog
  /** Retention: prunes the backups the plans' policies let go (after each scheduled slot, and `tenantctl backup prune`). */
  backupPruner: BackupPruner
  /** JSON export of a tenant, and import of one as a new tenant (runbook 002). */
  tenantExports: TenantExportService
  /** A tenant's logo (branding). */
  branding: TenantBranding
  /** Database size over time per tenant (sampled by one replica each TENANTD_SIZE_SAMPLE_MINUTES). */
  sizeHistory: TenantSizeHistory
  /** Rotation of tenants' database credentials: on request and on the plans' schedule. */
  credentialRotation: CredentialRotationService
  /** Master key rotation: secrets per key id, re-sealing under the active one. */
  keys: KeyService
  /** Set in embedded mode. */
  embedded: EmbeddedCluster | undefined
  /** Embedded mode: this process's hold on the data dir (tell it where we serve). */
  dataDirLock: DataDirLock | undefined
  /** Shuts down in order: operations, listeners, pools, catalog, embedded server. */
  close(): Promise<void>
}

export interface StartOptions {
  operations?: Partial<OperationRunnerOptions>
}

/**
 * Starts tenantd's domain: catalog (embedded PostgreSQL when no DATABASE_URL), control
 * migrations under an advisory lock, keyring, default db host, first super-admin, the
 * tenant-change listener and the operations sweeper (which resumes interrupted operations).
 *
 * @example
 *   const tenantd = await startTenantd(loadConfig(), log)
 *   const app = await buildApp(tenantd)
 */
export async function startTenantd(config: Config, log: Logger, options: StartOptions = {}): Promise<Tenantd> {
  let embedded: EmbeddedCluster | undefined
  let dataDirLock: DataDirLock | undefined
  let catalogUrl = config.databaseUrl
  let masterKey = config.masterKey
  let jwtSecret = config.jwtSecret
  let embeddedHost: Awaited<ReturnType<typeof startEmbeddedDefaults>>['host'] | undefined
  if (catalogUrl === undefined) {
    const defaults = await startEmbeddedDefaults(config.dataDir, log, masterKey)
    embedded = defaults.cluster
    dataDirLock = defaults.lock
    catalogUrl = defaults.catalogUrl
    masterKey = defaults.masterKey
    jwtSecret ??= defaults.jwtSecret
    embeddedHost = defaults.host
  }
  const closers: Array<() => Promise<void>> = []
  try {
    const sealer = SecretSealer.fromKeyring(masterKey!)
    const catalog = openCatalog(catalogUrl, log)
    closers.push(() => catalog.destroy())
    const applied = await migrateCatalog(catalog.pool)
    if (applied.length) log.info({ applied }, 'catalog migrated')
    // A secret sealed by a key id the keyring lacks would fail later, per tenant: stop now, naming the id.
    await assertKeyringComplete(catalog.db, sealer, config.masterKey !== undefined || config.databaseUrl !== undefined ? 'TENANTD_MASTER_KEY' : `the key file ${config.dataDir}/master.key`)

    const hosts = new HostRegistry(catalog.db, sealer)
    closers.push(() => hosts.close())
    if (embeddedHost) await ensureEmbeddedHost(hosts, embeddedHost)

    const tenants = new TenantDirectory(catalog.db, log)
    await tenants.listen(catalogUrl)
    closers.push(() => tenants.close())

    const pools = new TenantPoolCache({
      maxTenants: config.poolMaxTenants,
      connectionBudget: config.poolConnectionBudget,
      idleMs: config.poolIdleMs,
      log,
      connectionInfo: async (tenantId, { fresh = false } = {}) => {
        if (fresh) await tenants.refresh(tenantId)
        const tenant = await tenants.get(tenantId)
        const conn = tenantClientConfig(tenant, sealer)
        return { tenantId, host: String(conn.host), port: Number(conn.port), database: tenant.database_name, user: conn.user, password: conn.password, poolSize: tenant.plan_pool_size }
      },
    })
    closers.push(() => pools.destroy())
    // A changed tenant (suspended, moved, credentials rotated, deleted) gets a fresh pool.
    tenants.onChange((tenantId) => {
      if (pools.has(tenantId)) void pools.evict(tenantId)
    })

    const audit = new AuditLog(catalog.db, log)
    const edge = new EdgeSync({ catalog: catalog.db, catalogUrl, audit, log: log.child({ component: 'edge' }), config: config.edge })
    const operations = new OperationRunner(catalog.db, log, {
      staleMs: config.operationStaleMs,
      heartbeatMs: Math.max(100, Math.min(5_000, Math.floor(config.operationStaleMs / 4))),
      ...options.operations,
    })
    const modules = new ModuleRegistry(builtinModules)
    const moduleService = new ModuleService({ catalog: catalog.db, tenants, operations, modules })
    const migrations = new FleetMigrator({ catalog: catalog.db, tenants, sealer, modules, operations, migrationsDir: config.tenantMigrationsDir, log })
    operations.register(migrations.handler())
    operations.register(installModulesHandler({ catalog: catalog.db, tenants, sealer, modules, migrationsDir: config.tenantMigrationsDir }))
    operations.register(uninstallModuleHandler({ catalog: catalog.db, tenants, sealer, modules, migrationsDir: config.tenantMigrationsDir }))
    const backupTargets = new BackupTargets(config.backupStorage)
    closers.push(async () => backupTargets.close())
    const backupRecords = new BackupRecords(catalog.db)
    const keyDeps = { catalog: catalog.db, sealer, targets: backupTargets, audit, log: log.child({ component: 'keys' }) }
    operations.register(rotateKeysHandler(keyDeps))
    const keys = new KeyService({ ...keyDeps, operations })
    const provisioner = new Provisioner({ catalog: catalog.db, hosts, tenants, sealer, operations, defaultRetentionDays: config.retentionDays, modules, migrationsDir: config.tenantMigrationsDir })
    const lifecycle = new TenantLifecycle({ catalog: catalog.db, tenants, hosts, operations })
    operations.register(provisionHandler({
        catalog: catalog.db,
        hosts,
        tenants,
        sealer,
        audit,
        modules,
        migrationsDir: config.tenantMigrationsDir,
        templates: config.provisionFromTemplate ? new TenantTemplates(hosts, config.tenantMigrationsDir, log) : undefined,
        edge,
        backups: { records: backupRecords, targets: backupTargets, pgBinDir: config.pgBinDir },
      }))
    operations.register(deleteTenantHandler({
      catalog: catalog.db,
      tenants,
      hosts,
      operations,
      onPurged: (id) => pools.evict(id),
      backups: { sealer, pgBinDir: config.pgBinDir, compressLevel: config.backupCompressLevel, records: backupRecords, targets: backupTargets, audit },
    }))
    const backupDeps = { catalog: catalog.db, tenants, hosts, sealer, audit, records: backupRecords, targets: backupTargets, pgBinDir: config.pgBinDir, compressLevel: config.backupCompressLevel, migrationsDir: config.tenantMigrationsDir }
    operations.register(backupHandler(backupDeps))
    operations.register(restoreHandler({ ...backupDeps, evictPools: (id) => pools.evict(id) }))
    operations.register(restoreUndoHandler({ catalog: catalog.db, tenants, hosts, audit, evictPools: (id) => pools.evict(id) }))
    operations.register(rotateCredentialsHandler({ catalog: catalog.db, hosts, tenants, sealer, audit, drainTimeoutMs: config.credentialDrainSeconds * 1000 }))
    const restoreCleanup = new RestoreCleanup({ catalog: catalog.db, hosts, audit, log: log.child({ component: 'restore-cleanup' }), keepHours: config.restoreKeepHours })
    operations.register(moveHandler({ catalog: catalog.db, hosts, tenants, sealer, audit, pgBinDir: config.pgBinDir, keepHours: config.moveKeepHours, evictPools: (id) => pools.evict(id) }))
    const moves = new MoveService({ catalog: catalog.db, hosts, tenants, operations })
    const moveCleanup = new MoveCleanup({ catalog: catalog.db, hosts, audit, log: log.child({ component: 'move-cleanup' }) })
    const strandedMoves = new StrandedMoves({ catalog: catalog.db, operations, log: log.child({ component: 'stranded-moves' }) })
    const backups = new BackupService({ ...backupDeps, operations })
    const backupPruner = new BackupPruner({ catalog: catalog.db, targets: backupTargets, audit, log: log.child({ component: 'backup-pruner' }) })
    const backupScheduler = new BackupScheduler({
      catalog: catalog.db,
      backups,
      operations,
      audit,
      log: log.child({ component: 'backup-scheduler' }),
      config: config.backupSchedule,
      testRestore: (backup) => testRestoreBackup(backupDeps, backup),
      afterSlot: () => backupPruner.prune({}),
    })
    closers.push(() => operations.stop())

    const first = await ensureFirstSuperAdmin(catalog.db, config)
    if (first.created) {
      if (first.generatedPassword) {
        // Printed once, on purpose, to the console only (not the JSON log).
        process.stdout.write(
          `\n  First super-admin created: ${first.email}\n  Password (shown once, store it now): ${first.generatedPassword}\n\n`
        )
      }
      log.info({ email: first.email }, 'first super-admin created')
    }

    const auth = new AuthService({ catalog: catalog.db, tenants, pools, audit, config, log })
    const operators = new OperatorService(catalog.db, tenants)
    const domains = new DomainService({ catalog: catalog.db, tenants, baseDomain: config.baseDomain, verifyAddress: config.domainVerifyAddress })
    const tenantExports = new TenantExportService({ tenants, sealer, provisioner, operations, lifecycle, modules, audit, migrationsDir: config.tenantMigrationsDir, log: log.child({ component: 'tenant-export' }) })
    const domainRecheck = new DomainRecheck({
      catalog: catalog.db,
      tenants,
      audit,
      log: log.child({ component: 'domains' }),
      verifyAddress: config.domainVerifyAddress,
      everyHours: config.domainRecheckHours,
      failuresAllowed: config.domainRecheckFailures,
    })
    domainRecheck.start()
    closers.push(() => domainRecheck.close())
    await edge.start()
    closers.push(() => edge.close())
    operations.start()
    await backupScheduler.start()
    // Closed before the operation runner (closers run in reverse): slots stop taking tenants first.
    closers.push(() => backupScheduler.close())
    restoreCleanup.start()
    closers.push(() => restoreCleanup.stop())
    moveCleanup.start()
    closers.push(() => moveCleanup.stop())
    strandedMoves.start()
    closers.push(() => strandedMoves.stop())
    const credentialRotation = new CredentialRotationService({ catalog: catalog.db, tenants, operations, log: log.child({ component: 'credential-rotation' }), checkMinutes: config.credentialCheckMinutes })
    credentialRotation.start()
    // Closed before the operation runner: no new scheduled rotation while operations drain.
    closers.push(() => credentialRotation.close())
    const sizeHistory = new TenantSizeHistory({ catalog: catalog.db, hosts, log: log.child({ component: 'size-history' }), sampleMinutes: config.sizeSampleMinutes })
    sizeHistory.start()
    closers.push(() => sizeHistory.close())

    return {
      config,
      log,
      catalog,
      sealer,
      jwtSecret: jwtSecret!,
      hosts,
      tenants,
      pools,
      audit,
      operations,
      provisioner,
      lifecycle,
      auth,
      operators,
      modules,
      moduleService,
      migrations,
      domains,
      domainRecheck,
      edge,
      backups,
      restoreCleanup,
      moves,
      hostDrain: new HostDrain({ catalog: catalog.db, hosts, moves, operations, audit, log: log.child({ component: 'host-drain' }) }),
      moveCleanup,
      strandedMoves,
      backupScheduler,
      plans: new PlanCatalog(catalog.db),
      backupPruner,
      tenantExports,
      credentialRotation,
      branding: new TenantBranding(catalog.db, tenants),
      sizeHistory,
      keys,
      embedded,
      dataDirLock,
      async close() {
        for (const close of closers.reverse()) {
          await close().catch((error) => log.warn({ err: error }, 'error during shutdown'))
        }
        if (embedded) await embedded.stop()
        await dataDirLock?.release()
      },
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {})
    if (embedded) await embedded.stop().catch(() => {})
    await dataDirLock?.release()
    throw error
  }
}

async function ensureEmbeddedHost(hosts: HostRegistry, host: { name: string; host: string; port: number; adminUser: string; adminPassword: string }): Promise<void> {
  const existing = (await hosts.list()).find((h) => h.name === host.name)
  if (!existing) {
    await hosts.register({ ...host, isDefault: true })
  } else if (existing.port !== host.port || existing.host !== host.host) {
    await hosts.updateAddress(existing.id, { host: host.host, port: host.port })
  }
}
