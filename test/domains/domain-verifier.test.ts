import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { verifyDomain } from '../../src/domains/domain-verifier.js'

// The verifier against hostile or broken targets: it must not hang on a silent server, read an
// endless body, or follow anyone anywhere; and it says what it saw.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void
let handler: Handler = (_req, res) => res.end()
const seen: Array<{ host?: string; url?: string }> = []
const server = http.createServer((req, res) => {
  seen.push({ host: req.headers.host, url: req.url })
  handler(req, res)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
t.teardown(() => {
  server.closeAllConnections()
  return new Promise<void>((resolve) => server.close(() => resolve()))
})
const connectTo = `127.0.0.1:${(server.address() as AddressInfo).port}`
const token = 'a'.repeat(43)

t.test('the token answered: verified; Host and path are the domain and the token', async (t) => {
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${token}\n`)
  t.same(await verifyDomain('shop.example.com', token, { connectTo }), { ok: true })
  t.same(seen.at(-1), { host: 'shop.example.com', url: `/.well-known/tenantd/${token}` })
})

t.test('a server that never answers: given up at the deadline', async (t) => {
  handler = () => {}
  const started = Date.now()
  const result = await verifyDomain('slow.example.com', token, { connectTo, timeoutMs: 300 })
  t.match(result, { ok: false, seen: /no answer from 127\.0\.0\.1:\d+ .* within 0\.3 s/ })
  t.ok(Date.now() - started < 2_000, 'within the deadline, not the socket default')
})

t.test('an endless body: reading stops at the cap', async (t) => {
  handler = (_req, res) => {
    res.writeHead(200)
    const chunk = 'x'.repeat(64 * 1024)
    const pump = () => {
      while (res.write(chunk)) {}
      res.once('drain', pump)
    }
    res.on('error', () => {})
    pump()
  }
  const result = await verifyDomain('big.example.com', token, { connectTo, timeoutMs: 5_000 })
  t.match(result, { ok: false, seen: /body over 1024 bytes/ })
})

t.test('nothing listening, no DNS name: said plainly', async (t) => {
  const closed = http.createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  t.match(await verifyDomain('shop.example.com', token, { connectTo: `127.0.0.1:${port}` }), { ok: false, seen: /connection refused by 127\.0\.0\.1:\d+/ })
  t.match(await verifyDomain('no-such-name.invalid', token, { timeoutMs: 3_000 }), { ok: false, seen: /does not resolve in DNS|no answer|not reachable/ })
})
