import { Type } from 'typebox'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { Forbidden, NotFound } from '../../errors.js'
import { ErrorSchema } from '../schemas/common-schemas.js'
import { AskQuery, AskReply } from '../schemas/domain-schemas.js'

/**
 * Caddy's on-demand TLS check: `GET /api/caddy/ask?domain=<name>` answers 200 only for an
 * address of an active tenant (its subdomain address or a verified custom domain) and 404
 * for anything else, so Caddy never asks a CA for a certificate of a name nobody serves.
 *
 * It answers only peers in TENANTD_TRUSTED_PROXIES (by socket address, never a forwarded
 * header), so it cannot be used to list tenants. The answer comes from the directory's
 * in-memory index: no catalog query per call, nothing remembered per name asked. It runs
 * as the route's first hook, before body and query validation, so no input (NUL, a
 * megabyte of garbage, a repeated parameter) can turn it into anything but 403 or 404.
 */
export async function caddyAskRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.tenantd
  const proxies = new BlockList()
  for (const entry of config.trustedProxies) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const family = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (bits === undefined) proxies.addAddress(address, family)
    else proxies.addSubnet(address, Number(bits), family)
  }
  const fromProxy = (peer: string | undefined): boolean => {
    if (!peer) return false
    const v4 = peer.startsWith('::ffff:') && isIPv4(peer.slice(7)) ? peer.slice(7) : undefined
    if (v4) return proxies.check(v4, 'ipv4') || proxies.check(peer, 'ipv6')
    return proxies.check(peer, isIPv6(peer) ? 'ipv6' : 'ipv4')
  }

  // Caddy keeps its connections alive: the peer of a socket is checked once, not per request
  // (BlockList.check builds a SocketAddress each call, a fifth of this route's CPU under load).
  const checked = new WeakMap<object, boolean>()
  const socketFromProxy = (socket: FastifyRequest['socket']): boolean => {
    let allowed = checked.get(socket)
    if (allowed === undefined) checked.set(socket, (allowed = fromProxy(socket.remoteAddress)))
    return allowed
  }
  // One logger for every ask (warnings only), instead of a child per request.
  let askLogger: FastifyBaseLogger | undefined

  const ask = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!socketFromProxy(request.socket)) {
      throw new Forbidden('The ask endpoint answers only the edge proxy; add its address to TENANTD_TRUSTED_PROXIES.')
    }
    const domain = (request.query as { domain?: unknown } | undefined)?.domain
    const address = typeof domain === 'string' ? app.tenantResolver.addressOf(domain) : undefined
    if (address?.status !== 'active') throw new NotFound('No active tenant serves this address.')
    return reply.send({ domain: (domain as string).toLowerCase().replace(/\.$/, ''), allowed: true })
  }

  app.get(
    '/api/caddy/ask',
    {
      onRequest: ask,
      // Caddy asks on every handshake for a name it has no certificate for, so a scan of random
      // names would be two log lines each: only warnings and errors are logged here.
      logLevel: 'warn',
      childLoggerFactory: (logger, _bindings, options) => (askLogger ??= logger.child({ route: 'caddy-ask' }, options)),
      schema: {
        tags: ['domains'],
        summary: "Caddy's on-demand TLS check: 200 for an active tenant's address, else 404 (edge proxy addresses only)",
        security: [],
        querystring: AskQuery,
        response: { 200: AskReply, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    // Never reached: the onRequest hook answers every request.
    async () => {
      throw new NotFound('No active tenant serves this address.')
    }
  )
}
