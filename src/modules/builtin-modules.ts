import type { ModuleDefinition } from './module-definition.js'

/** The modules shipped with tenantd. A new module is a folder here plus its migrations. */
export const builtinModules: ModuleDefinition[] = []
