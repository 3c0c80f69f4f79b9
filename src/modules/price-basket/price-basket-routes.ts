import type { FastifyPluginAsync } from 'fastify'

/** Price basket routes, mounted under `/api/price-basket`. */
export const priceBasketRoutes: FastifyPluginAsync = async () => {}
