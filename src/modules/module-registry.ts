import { Conflict, ModuleNotFound } from '../errors.js'
import type { ModuleDefinition } from './module-definition.js'

/**
 * The modules this build of tenantd ships, with their dependency graph.
 *
 * @example
 *   const registry = new ModuleRegistry([crmModule, priceBasketModule])
 *   registry.installOrder(['price-basket'])   // dependencies first
 */
export class ModuleRegistry {
  readonly #modules = new Map<string, ModuleDefinition>()

  constructor(modules: ModuleDefinition[]) {
    for (const module of modules) {
      if (!/^[a-z][a-z0-9-]{1,39}$/.test(module.name)) throw new Error(`module name "${module.name}" must be lowercase letters, digits and hyphens`)
      if (this.#modules.has(module.name)) throw new Error(`module "${module.name}" is defined twice`)
      this.#modules.set(module.name, module)
    }
    for (const module of modules) {
      for (const dependency of module.dependencies) {
        if (!this.#modules.has(dependency)) throw new Error(`module "${module.name}" depends on unknown module "${dependency}"`)
      }
    }
    this.installOrder(modules.map((m) => m.name)) // rejects cycles at start
  }

  list(): ModuleDefinition[] {
    return [...this.#modules.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  get(name: string): ModuleDefinition {
    const module = this.#modules.get(name)
    if (!module) throw new ModuleNotFound(name)
    return module
  }

  has(name: string): boolean {
    return this.#modules.has(name)
  }

  /** The named modules and everything they depend on, dependencies first. */
  installOrder(names: string[]): ModuleDefinition[] {
    const order: ModuleDefinition[] = []
    const state = new Map<string, 'visiting' | 'done'>()
    const visit = (name: string, path: string[]) => {
      const module = this.get(name)
      if (state.get(name) === 'done') return
      if (state.get(name) === 'visiting') throw new Error(`module dependency cycle: ${[...path, name].join(' -> ')}`)
      state.set(name, 'visiting')
      for (const dependency of module.dependencies) visit(dependency, [...path, name])
      state.set(name, 'done')
      order.push(module)
    }
    for (const name of names) visit(name, [])
    return order
  }

  /** Installed modules that depend on `name` (directly or not); uninstalling it would break them. */
  dependentsOf(name: string, installed: string[]): string[] {
    return installed.filter((other) => other !== name && this.installOrder([other]).some((m) => m.name === name))
  }

  /** Refuses an uninstall that would leave an installed module without its dependency. */
  assertRemovable(name: string, installed: string[]): void {
    const dependents = this.dependentsOf(name, installed)
    if (dependents.length) {
      throw new Conflict(`module "${name}" is needed by ${dependents.join(', ')}; uninstall ${dependents.length > 1 ? 'those' : 'that'} first`)
    }
  }
}
