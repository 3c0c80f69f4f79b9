import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { EdgeRenderError } from '../../edge/edge-sync.js'
import { EdgeRenderRefused } from '../../errors.js'
import { requireSuperAdmin } from '../guards.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'
import { EdgeStatusSchema } from '../schemas/edge-schemas.js'

const SyncResultSchema = Type.Object({
  generation: Type.Integer(),
  written: Type.Boolean({ description: 'the file got a new render' }),
  applied: Type.Boolean({ description: 'Caddy runs this generation now' }),
  status: EdgeStatusSchema,
})

/** The edge: status of the rendered Caddyfile and of Caddy, and render/reload on demand (super admins). */
export async function edgeRoutes(app: FastifyInstance): Promise<void> {
  const { edge } = app.tenantd
  const sync = async (forceApply: boolean) => {
    try {
      const result = await edge.syncNow({ forceApply })
      return { ...result, status: await edge.status() }
    } catch (error) {
      if (error instanceof EdgeRenderError) throw new EdgeRenderRefused(`${error.message}; the previous Caddyfile keeps serving`)
      throw error
    }
  }

  app.get(
    '/api/admin/edge',
    { preHandler: requireSuperAdmin, schema: { tags: ['edge'], summary: 'Edge status: mode, file, generations rendered and applied, last reload and error', response: { 200: EdgeStatusSchema, ...errorResponses } } },
    async () => edge.status()
  )
  app.post(
    '/api/admin/edge/render',
    { preHandler: requireSuperAdmin, schema: { tags: ['edge'], summary: 'Render, validate and write the Caddyfile now (applies it if it changed and reloads are on)', response: { 200: SyncResultSchema, ...errorResponses, 422: ErrorSchema } } },
    async () => sync(false)
  )
  app.post(
    '/api/admin/edge/reload',
    { preHandler: requireSuperAdmin, schema: { tags: ['edge'], summary: 'Render and make Caddy load the Caddyfile now, changed or not', response: { 200: SyncResultSchema, ...errorResponses, 422: ErrorSchema } } },
    async () => sync(true)
  )
}
