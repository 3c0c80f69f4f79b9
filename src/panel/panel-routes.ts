import type { FastifyInstance, FastifyReply } from 'fastify'
import { NotFound } from '../errors.js'
import { panelBundle } from './panel-bundle.js'

/**
 * The page may load only what tenantd itself serves: no inline script or style, no other
 * origin, no framing. The panel's JavaScript sets styles through the CSSOM, which this allows.
 */
export const panelContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const immutable = 'public, max-age=31536000, immutable'

/**
 * Serves the web panel (issue 10): `GET /panel` and every client route under it answer
 * index.html (never cached, strict CSP); `GET /panel/assets/<name>.<hash>.<ext>` answers the
 * bundle's files, cached for a year. The bundle is built in memory on the first request
 * (src/panel/panel-bundle.ts). The panel itself is only a client of the public API.
 */
export async function panelRoutes(app: FastifyInstance): Promise<void> {
  const secure = (reply: FastifyReply) => reply.header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'no-referrer')

  const index = async (_request: unknown, reply: FastifyReply) => {
    const { indexHtml } = await panelBundle()
    return secure(reply)
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', panelContentSecurityPolicy)
      .send(indexHtml)
  }
  app.get('/panel', { schema: { hide: true } }, index)
  app.get('/panel/*', { schema: { hide: true } }, index)

  app.get('/panel/assets/:file', { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params as { file: string }
    const asset = (await panelBundle()).assets.get(file)
    if (!asset) throw new NotFound(`No panel asset ${file}: the panel was rebuilt since this page loaded; reload /panel.`)
    return secure(reply).header('Content-Type', asset.contentType).header('Cache-Control', immutable).send(asset.body)
  })
}
