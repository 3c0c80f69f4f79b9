import type { FastifyPluginAsync } from 'fastify'

/** CRM routes, mounted under `/api/crm`. */
export const crmRoutes: FastifyPluginAsync = async () => {}
