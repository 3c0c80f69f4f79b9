import { escapeIdentifier } from 'pg'
import type pg from 'pg'
import type { DbHostRow } from '../catalog/catalog-schema.js'
import { SqlState, sqlState } from '../errors.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { Logger } from '../logger.js'
import type { MigrationFile } from '../catalog/control-migrator.js'
import { migrateTenantDatabase, readBaseMigrations } from '../migrations/tenant-migrator.js'

/** The database each host keeps at the latest base schema, cloned for every new tenant. */
export const TEMPLATE_DATABASE = 'tenantd_template_base'
/** Owns the objects inside the template; ownership moves to the tenant's role after a clone. */
export const TEMPLATE_ROLE = 'tenantd_template'
/** Serializes template refreshes and clones on one host (CREATE DATABASE ... TEMPLATE fails
 * while anyone is connected to the template). */
const TEMPLATE_LOCK = 7_411_204

export type CreatedFrom = 'template' | 'template0'

/**
 * Creates tenant databases by cloning a per-host template kept at the latest base schema
 * (`CREATE DATABASE ... TEMPLATE tenantd_template_base`), which skips running migrations for
 * every new tenant. The template records the base migrations it has (like any tenant
 * database); when the files change, the next clone first applies the new ones to the
 * template, or rebuilds it if an applied file changed. Whatever goes wrong with the template,
 * provisioning falls back to an empty database from template0 plus migrations.
 *
 * @example
 *   const from = await templates.createDatabase(hostRow, 'tenant_acme', 'tenant_acme_owner')
 *   // 'template': base schema already there, owned by tenant_acme_owner
 */
export class TenantTemplates {
  /** Per host, the base migrations (checksums) its template was last seen holding. */
  readonly #current = new Map<string, string>()

  constructor(
    private readonly hosts: HostRegistry,
    private readonly migrationsDir: string,
    private readonly log: Logger
  ) {}

  /** Creates `database` owned by `role` (idempotent: an existing database counts as done). */
  async createDatabase(host: DbHostRow, database: string, role: string): Promise<CreatedFrom> {
    const files = await readBaseMigrations(this.migrationsDir)
    const version = files.map((f) => `${f.name}:${f.checksum}`).join(',')
    let from: CreatedFrom = 'template0'
    await this.hosts.withAdminClient(host, async (client) => {
      await client.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK])
      try {
        for (let attempt = 0; ; attempt++) {
          // Known current (this process checked it under this lock): no need to look again.
          const templateReady =
            this.#current.get(host.id) === version ||
            (await this.#ensureTemplate(host, client, files).then(
              (ready) => {
                if (ready) this.#current.set(host.id, version)
                return ready
              },
              (error) => {
                this.log.warn({ host: host.name, err: { message: (error as Error).message, code: sqlState(error) } }, 'tenant template unavailable; creating from template0 and migrating')
                return false
              }
            ))
          from = templateReady ? 'template' : 'template0'
          try {
            await client.query(
              `CREATE DATABASE ${escapeIdentifier(database)} OWNER ${escapeIdentifier(role)} ENCODING 'UTF8' TEMPLATE ${escapeIdentifier(templateReady ? TEMPLATE_DATABASE : 'template0')}`
            )
            break
          } catch (error) {
            if (sqlState(error) === SqlState.duplicateDatabase) break
            // The template went away behind our back (dropped by hand, rebuilt by another
            // replica): look at it again once.
            if (templateReady && attempt === 0 && sqlState(error) === SqlState.invalidCatalogName) {
              this.#current.delete(host.id)
              continue
            }
            throw error
          }
        }
      } finally {
        await client.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => {})
      }
    })
    // Always (also on a resumed step): objects cloned from the template become the tenant's.
    await this.hosts.withAdminClient(
      host,
      async (client) => {
        const templateRole = await client.query('select 1 from pg_roles where rolname = $1', [TEMPLATE_ROLE])
        if (templateRole.rowCount) {
          await client.query(`REASSIGN OWNED BY ${escapeIdentifier(TEMPLATE_ROLE)} TO ${escapeIdentifier(role)}`)
          await client.query(`REVOKE ALL ON SCHEMA public FROM ${escapeIdentifier(TEMPLATE_ROLE)}`)
        }
      },
      database
    )
    return from
  }

  /**
   * Makes sure the host's template exists and holds exactly the current base migrations.
   * Runs under the template lock; leaves no session connected to the template.
   */
  async #ensureTemplate(host: DbHostRow, admin: pg.ClientBase, files: MigrationFile[]): Promise<boolean> {
    await this.#ensureTemplateRole(admin)
    const exists = await admin.query('select 1 from pg_database where datname = $1', [TEMPLATE_DATABASE])
    if (!exists.rowCount) await this.#createTemplate(admin)
    const state = await this.hosts.withAdminClient(host, (client) => this.#refresh(client, files), TEMPLATE_DATABASE)
    if (state === 'drift') {
      this.log.info({ host: host.name }, 'base migrations changed after the template applied them; rebuilding the template')
      await dropDatabase(admin, TEMPLATE_DATABASE)
      await this.#createTemplate(admin)
      return (await this.hosts.withAdminClient(host, (client) => this.#refresh(client, files), TEMPLATE_DATABASE)) === 'current'
    }
    return true
  }

  async #ensureTemplateRole(admin: pg.ClientBase): Promise<void> {
    try {
      await admin.query(`CREATE ROLE ${escapeIdentifier(TEMPLATE_ROLE)} NOLOGIN`)
    } catch (error) {
      if (sqlState(error) !== SqlState.duplicateObject && sqlState(error) !== SqlState.uniqueViolation) throw error
    }
    // Membership lets the admin build the template as this role and REASSIGN from it.
    await admin.query(`GRANT ${escapeIdentifier(TEMPLATE_ROLE)} TO CURRENT_USER`).catch((error) => {
      if (sqlState(error) !== SqlState.duplicateObject) throw error
    })
  }

  async #createTemplate(admin: pg.ClientBase): Promise<void> {
    await admin.query(`CREATE DATABASE ${escapeIdentifier(TEMPLATE_DATABASE)} ENCODING 'UTF8' TEMPLATE template0`)
    await admin.query(`REVOKE ALL ON DATABASE ${escapeIdentifier(TEMPLATE_DATABASE)} FROM PUBLIC`)
  }

  /** Applies pending base migrations to the template as the template role. */
  async #refresh(client: pg.ClientBase, files: MigrationFile[]): Promise<'current' | 'drift'> {
    await client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC')
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${escapeIdentifier(TEMPLATE_ROLE)}`)
    await client.query(`SET ROLE ${escapeIdentifier(TEMPLATE_ROLE)}`)
    const result = await migrateTenantDatabase(client, 'base', files)
    await client.query('RESET ROLE')
    if (result.applied.length) this.log.info({ applied: result.applied }, 'tenant template refreshed')
    return result.drift.length ? 'drift' : 'current'
  }
}
