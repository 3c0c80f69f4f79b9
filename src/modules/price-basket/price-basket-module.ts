import type { ModuleDefinition } from '../module-definition.js'
import { priceBasketRoutes } from './price-basket-routes.js'

/** Cesta de Preços: suppliers, quotes and quote items in `cp_*` tables (runbook 003). */
export const priceBasketModule: ModuleDefinition = {
  name: 'price-basket',
  version: '1.0.0',
  description: 'Price basket: suppliers, quotes and quote items (cp_* tables)',
  dependencies: [],
  tables: ['cp_fornecedores', 'cp_orcamentos', 'cp_orcamento_itens'],
  routes: priceBasketRoutes,
}
