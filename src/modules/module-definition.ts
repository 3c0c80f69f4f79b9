import type { FastifyPluginAsync } from 'fastify'

/**
 * A module is code in this repository: a name, a version, what it needs, its migrations in
 * `tenant-migrations/modules/<name>/`, and a fastify plugin of routes served under
 * `/api/<name>/` for tenants that have it installed.
 *
 * Module migrations must be idempotent (`create table if not exists ...`): installing an
 * installed module again re-runs them to repair missing objects without touching data
 * (runbook 003: "Tabelas cp_* não existem" → reinstall).
 *
 * @example
 *   export const crmModule: ModuleDefinition = {
 *     name: 'crm', version: '1.0.0', description: 'Customers, products and leads',
 *     dependencies: [], tables: ['customers', 'products', 'leads'], routes: crmRoutes,
 *   }
 */
export interface ModuleDefinition {
  /** Lowercase, hyphenated; also the permission a tenant user needs and the URL prefix. */
  name: string
  version: string
  description: string
  /** Modules that must be installed first. */
  dependencies: string[]
  /** Tables the module owns: checked on repair, dropped on purge. */
  tables: string[]
  /** Routes, registered with prefix `/api/<name>`. */
  routes: FastifyPluginAsync
}
