import type { ModuleDefinition } from '../module-definition.js'
import { crmRoutes } from './crm-routes.js'

/** Customers, products and leads (runbooks 002 and 004). */
export const crmModule: ModuleDefinition = {
  name: 'crm',
  version: '1.0.0',
  description: 'Customers, products and leads',
  dependencies: [],
  tables: ['customers', 'products', 'leads'],
  routes: crmRoutes,
}
