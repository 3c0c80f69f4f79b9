import type { IncomingMessage, ServerResponse } from 'node:http'
import { BlockList, isIPv4, isIPv6, type Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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
  const socketFromProxy = proxySocketCheck(app.tenantd.config.trustedProxies)
  // One logger for every ask (warnings only), instead of a child per request.
  let askLogger: FastifyBaseLogger | undefined

  const ask = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!socketFromProxy(request.socket)) {
      throw new Forbidden('The ask endpoint answers only the edge proxy; add its address to TENANTD_TRUSTED_PROXIES.')
    }
    const domain = (request.query as { domain?: unknown } | undefined)?.domain
    const address = typeof domain === 'string' ? app.tenantResolver.addressOf(domain) : undefined
    if (address?.status !== 'active') throw new NotFound(notServedMessage)
    return reply.send(allowedAnswer(domain as string))
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
      throw new NotFound(notServedMessage)
    }
  )
}

/**
 * Whether a socket's peer is one of the proxies (TENANTD_TRUSTED_PROXIES), checked once per
 * socket: Caddy keeps its connections alive, and BlockList.check builds a SocketAddress each
 * call (a fifth of the route's CPU under load when it ran per request).
 */
function proxySocketCheck(trustedProxies: readonly string[]): (socket: Socket) => boolean {
  const proxies = new BlockList()
  for (const entry of trustedProxies) {
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
  const checked = new WeakMap<Socket, boolean>()
  return (socket) => {
    let allowed = checked.get(socket)
    if (allowed === undefined) checked.set(socket, (allowed = fromProxy(socket.remoteAddress)))
    return allowed
  }
}

const notServedMessage = 'No active tenant serves this address.'
/** The 200 answer for a name a tenant serves (the name as Caddy will use it). */
const allowedAnswer = (domain: string) => ({ domain: domain.toLowerCase().replace(/\.$/, ''), allowed: true as const })

const askPrefix = '/api/caddy/ask?domain='
/** The error handler's body for NotFound(notServedMessage). */
const notServed = JSON.stringify({ error: 'NotFound', message: notServedMessage })

/**
 * The ask as Caddy sends it, answered before fastify sees the request: `GET
 * /api/caddy/ask?domain=<name>` from a proxy's socket, one parameter. Under a handshake storm
 * this is the hottest request tenantd serves, and fastify's routing, hooks, reply and
 * serializer were most of its cost (docs/benchmarks.md "Edge"). The answers are the route's,
 * byte for byte; anything else (another peer, another shape of query, HEAD, a NUL) returns
 * false and goes through the route above, which answers it as it always has.
 *
 * @example
 *   const fast = caddyAskFastPath(config.trustedProxies, (name) => resolver.addressOf(name))
 *   http.createServer((req, res) => fast(req, res) || fastifyHandler(req, res))
 */
export function caddyAskFastPath(
  trustedProxies: readonly string[],
  addressOf: (domain: string) => { status: string } | undefined
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const socketFromProxy = proxySocketCheck(trustedProxies)
  return (request, response) => {
    const url = request.url
    if (request.method !== 'GET' || url === undefined || !url.startsWith(askPrefix)) return false
    const raw = url.slice(askPrefix.length)
    if (raw.includes('&') || raw.includes('#') || raw.length > 1024) return false
    if (!socketFromProxy(request.socket)) return false
    let domain: string
    try {
      domain = raw.includes('%') || raw.includes('+') ? decodeURIComponent(raw.replace(/\+/g, ' ')) : raw
    } catch {
      return false
    }
    if (domain.includes('\u0000')) return false
    const served = addressOf(domain)?.status === 'active'
    const body = served ? JSON.stringify(allowedAnswer(domain)) : notServed
    response.writeHead(served ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    response.end(body)
    return true
  }
}
