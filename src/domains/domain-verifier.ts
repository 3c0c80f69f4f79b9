import http from 'node:http'

/** The path under which tenantd serves a domain's verification token, on that domain. */
export const WELL_KNOWN_PREFIX = '/.well-known/tenantd/'

export type VerificationResult = { ok: true } | { ok: false; seen: string }

export interface DomainVerifierOptions {
  /** host:port to connect to (with Host: <domain>) instead of resolving the domain; for loopback setups and tests. */
  connectTo?: string
  /** Whole check, connect to last byte. */
  timeoutMs?: number
}

/** A token is 43 characters; anything much longer is not our answer. */
const BODY_LIMIT = 1024

/**
 * Proves a domain points at this edge: GET http://<domain>/.well-known/tenantd/<token> must
 * answer 200 with the token as its body. No redirects are followed (a redirect proves nothing
 * about where the name points), the whole check has a short deadline and the body read is
 * capped, so a hostile target cannot hold or flood the caller. The body is compared, never
 * echoed back.
 *
 * @example
 *   const result = await verifyDomain('shop.example.com', token)
 *   if (!result.ok) console.log(result.seen)   // "connection refused by shop.example.com:80"
 */
export function verifyDomain(domain: string, token: string, options: DomainVerifierOptions = {}): Promise<VerificationResult> {
  const timeoutMs = options.timeoutMs ?? 5_000
  const target = options.connectTo ? splitHostPort(options.connectTo) : { host: domain, port: 80 }
  const where = `${target.host}:${target.port}`
  const url = `http://${domain}${WELL_KNOWN_PREFIX}${token}`
  return new Promise((resolve) => {
    let settled = false
    const finish = (result: VerificationResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.destroy()
      resolve(result)
    }
    const request = http.request(
      {
        host: target.host,
        port: target.port,
        method: 'GET',
        path: `${WELL_KNOWN_PREFIX}${token}`,
        headers: { host: domain, 'user-agent': 'tenantd-domain-verifier', accept: 'text/plain', connection: 'close' },
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0
        if (status >= 300 && status < 400) {
          return finish({ ok: false, seen: `GET ${url} answered ${status}, a redirect${response.headers.location ? ` to ${clip(response.headers.location)}` : ''}; redirects are not followed, so serve ${WELL_KNOWN_PREFIX} over plain HTTP on this name` })
        }
        if (status !== 200) return finish({ ok: false, seen: `GET ${url} (via ${where}) answered ${status} instead of 200 with the token` })
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
          if (body.length > BODY_LIMIT) finish({ ok: false, seen: `GET ${url} answered 200 with a body over ${BODY_LIMIT} bytes, not the token` })
        })
        response.on('end', () => {
          finish(body.trim() === token ? { ok: true } : { ok: false, seen: `GET ${url} answered 200 but the body is not the token (another server answers for this name)` })
        })
        response.on('error', (error) => finish({ ok: false, seen: `reading the answer of ${url} failed: ${error.message}` }))
      }
    )
    const timer = setTimeout(() => finish({ ok: false, seen: `no answer from ${where} for ${url} within ${timeoutMs / 1000} s` }), timeoutMs)
    request.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, seen: describeNetworkError(error, domain, where) }))
    request.end()
  })
}

function describeNetworkError(error: NodeJS.ErrnoException, domain: string, where: string): string {
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${domain} does not resolve in DNS (${error.code})`
    case 'ECONNREFUSED':
      return `connection refused by ${where}`
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is not reachable (${error.code})`
    default:
      return `connecting to ${where} failed (${error.code ?? error.message})`
  }
}

function splitHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':')
  return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(value.slice(at + 1)) }
}

function clip(value: string): string {
  return value.length > 100 ? `${value.slice(0, 97)}...` : value
}
