import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type EdgeMode = 'forward' | 'redirect' | 'wrong-body' | 'not-found'

export interface EdgeStandIn {
  /** host:port, for TENANTD_DOMAIN_VERIFY_ADDRESS. */
  address: string
  /** Where requests are forwarded (set once tenantd listens). */
  upstreamPort: number
  mode: EdgeMode
}

/**
 * A loopback HTTP server standing where Caddy would: it forwards every request to tenantd
 * with its Host (mode 'forward'), or misbehaves the way a misconfigured edge or a parked
 * domain does, so domain verification is tested over a real HTTP path.
 */
export async function startEdgeStandIn(t: { teardown(fn: () => unknown): void }): Promise<EdgeStandIn> {
  const state = { address: '', upstreamPort: 0, mode: 'forward' as EdgeMode }
  const server = http.createServer((req, res) => {
    if (state.mode === 'redirect') return res.writeHead(301, { location: `https://${req.headers.host}${req.url}` }).end()
    if (state.mode === 'wrong-body') return res.writeHead(200, { 'content-type': 'text/plain' }).end('parked domain')
    if (state.mode === 'not-found') return res.writeHead(404).end()
    const upstream = http.request({ host: '127.0.0.1', port: state.upstreamPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  state.address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}
