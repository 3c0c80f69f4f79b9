import type { Operation } from '../api-types.js'
import { UsageError } from '../cli-error.js'
import type { Command, CommandContext, CommandGroup } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import { askLine } from '../secret-input.js'
import { formatTime, type Column } from '../table-format.js'
import { tenantPath } from './tenant-view.js'

/** A module this tenantd ships (GET /api/admin/modules). */
interface ModuleInfo {
  name: string
  version: string
  description: string
  dependencies: string[]
  tables: string[]
}

/** A module installed for a tenant (GET /api/admin/tenants/:id/modules). */
interface InstalledModule {
  name: string
  version: string
  installedAt: string
  updatedAt: string
}

/** Install and uninstall answer 202 with the operation to watch. */
interface ModuleOperationReply {
  operationId: string
  operation: Operation
  modules?: string[]
}

const moduleColumns: Column<ModuleInfo>[] = [
  { header: 'NAME', value: (m) => m.name },
  { header: 'VERSION', value: (m) => m.version },
  { header: 'DEPENDS', value: (m) => m.dependencies.join(', ') },
  { header: 'DESCRIPTION', value: (m) => m.description },
]

const installedColumns: Column<InstalledModule>[] = [
  { header: 'NAME', value: (m) => m.name },
  { header: 'VERSION', value: (m) => m.version },
  { header: 'INSTALLED', value: (m) => formatTime(m.installedAt) },
  { header: 'UPDATED', value: (m) => formatTime(m.updatedAt) },
]

const modulePath = (tenant: string, module: string) => tenantPath(tenant, `/modules/${encodeURIComponent(module)}`)

/** `tenantctl modules list [tenant]`: the modules shipped, or those a tenant has. */
export const listModules: Command = {
  name: 'list',
  summary: 'List the modules tenantd ships, or those installed for a tenant',
  args: ['[tenant]'],
  async run({ api, out }, input) {
    const tenant = input.arg(0)
    if (tenant) {
      const { body } = await api.request<{ items: InstalledModule[] }>('GET', tenantPath(tenant, '/modules'))
      if (out.json) return out.printJson(body)
      if (body.items.length === 0) return out.line(`No modules installed for ${tenant}. Install one with \`tenantctl modules install ${tenant} <module>\`.`)
      return out.table(body.items, installedColumns)
    }
    const { body } = await api.request<{ items: ModuleInfo[] }>('GET', '/api/admin/modules')
    if (out.json) return out.printJson(body)
    out.table(body.items, moduleColumns)
  },
}

/**
 * `tenantctl modules install <tenant> <module>`: installs the module and its dependencies;
 * on an installed module, repairs missing tables without touching data (runbook 003).
 */
export const installModule: Command = {
  name: 'install',
  summary: 'Install a module for a tenant (again: repair its missing tables, data kept)',
  args: ['<tenant>', '<module>'],
  details: 'Dependencies are installed first. Running it on an installed module re-runs its idempotent migrations.',
  async run({ api, out }, input) {
    const [tenant, module] = [input.arg(0), input.arg(1)]
    const { body } = await api.request<ModuleOperationReply>('POST', modulePath(tenant, module))
    const order = body.modules ?? [module]
    if (!out.json) out.note(`Installing ${order.join(', ')} on ${tenant} (operation ${body.operationId})`)
    const operation = await watchOperation(api, out, body.operationId)
    if (out.json) return out.printJson({ ...body, operation })
    const catalog = await moduleCatalog({ api })
    const tables = order.flatMap((name) => catalog.get(name)?.tables ?? [])
    out.success(`${order.join(', ')} installed on ${tenant}${tables.length ? ` (${describeTables(tables)} ready)` : ''}`)
  },
}

/**
 * `tenantctl modules uninstall <tenant> <module> [--purge] [--yes]`: the module's routes stop
 * answering; its tables stay unless --purge, which asks to type the module name first (or
 * needs --yes without a terminal), like `delete --hard`.
 */
export const uninstallModule: Command = {
  name: 'uninstall',
  summary: 'Uninstall a module from a tenant (--purge also drops its tables)',
  args: ['<tenant>', '<module>'],
  options: {
    purge: { type: 'boolean', description: 'drop the module tables and their data (cannot be undone)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
  },
  details: 'Without --purge the tables and data stay, and reinstalling brings them back. --purge asks you to type the module name; without a terminal it needs --yes.',
  async run(context, input) {
    const { api, out } = context
    const [tenant, module] = [input.arg(0), input.arg(1)]
    const purge = input.flag('purge')
    if (purge && !input.flag('yes')) await confirmPurge(context, tenant, module)
    const { body } = await api.request<ModuleOperationReply>('DELETE', `${modulePath(tenant, module)}${purge ? '?purge=true' : ''}`)
    if (!out.json) out.note(`Uninstalling ${module} from ${tenant} (operation ${body.operationId})`)
    const operation = await watchOperation(api, out, body.operationId)
    if (out.json) return out.printJson({ ...body, operation })
    out.success(
      purge
        ? `${module} uninstalled from ${tenant}; its tables and data were dropped`
        : `${module} uninstalled from ${tenant}; its tables and data are kept (reinstall to use them again)`,
    )
  },
}

/** Asks to type the module name; refuses (exit 2) without a terminal or on a mismatch. */
async function confirmPurge({ api, terminal }: CommandContext, tenant: string, module: string): Promise<void> {
  if (!terminal.stdin.isTTY) {
    throw new UsageError('--purge drops the module tables and their data and cannot be undone; refusing without confirmation', {
      hint: `run it on a terminal, or pass --yes: tenantctl modules uninstall ${tenant} ${module} --purge --yes`,
    })
  }
  const tables = (await moduleCatalog({ api })).get(module)?.tables ?? []
  const answer = await askLine(
    terminal,
    `Purge drops ${tables.length ? `tables ${tables.join(', ')}` : 'the tables'} of module ${module} in tenant ${tenant} for good.\n` +
      `Type the module name (${module}) to confirm: `,
  )
  if (answer !== module) throw new UsageError('confirmation did not match; nothing was uninstalled')
}

async function moduleCatalog({ api }: Pick<CommandContext, 'api'>): Promise<Map<string, ModuleInfo>> {
  const { body } = await api.request<{ items: ModuleInfo[] }>('GET', '/api/admin/modules')
  return new Map(body.items.map((m) => [m.name, m]))
}

/** "cp_* tables" when the tables share a prefix like cp_, else their names. */
function describeTables(tables: string[]): string {
  const prefix = /^([a-z0-9]+_)/.exec(tables[0] ?? '')?.[1]
  if (prefix && tables.length > 1 && tables.every((table) => table.startsWith(prefix))) return `${prefix}* tables`
  return tables.length === 1 ? `table ${tables[0]}` : `tables ${tables.join(', ')}`
}

export const modulesGroup: CommandGroup = {
  name: 'modules',
  summary: 'Modules per tenant: list, install (or repair), uninstall',
  commands: [listModules, installModule, uninstallModule],
  defaultCommand: 'list',
}
