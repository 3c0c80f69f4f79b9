import { crmModule } from './crm/crm-module.js'
import type { ModuleDefinition } from './module-definition.js'
import { priceBasketModule } from './price-basket/price-basket-module.js'

/** The modules shipped with tenantd. A new module is a folder here plus its migrations. */
export const builtinModules: ModuleDefinition[] = [crmModule, priceBasketModule]
