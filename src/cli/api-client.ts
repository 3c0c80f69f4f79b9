import type { TokenPair } from './api-types.js'
import { ApiError, CliError } from './cli-error.js'
import type { CredentialsStore, StoredCredentials } from './credentials-store.js'

export const defaultUrl = 'http://127.0.0.1:5000'

/** Long enough for any synchronous admin call; long work answers 202 and is polled instead. */
const requestTimeoutMs = 60_000

export type QueryValue = string | number | boolean | undefined

export interface RequestOptions {
  query?: Record<string, QueryValue>
  body?: unknown
  headers?: Record<string, string>
  /** Send the bearer token and refresh it on 401 (default true). */
  auth?: boolean
  /** How long to wait for the answer (default 60 s; null: as long as it takes, e.g. a host drain). */
  timeoutMs?: number | null
}

export interface StreamRequestOptions {
  query?: Record<string, QueryValue>
  headers?: Record<string, string>
  /** Makes the request body; called once per attempt. */
  body?: () => ReadableStream<Uint8Array>
  /** Content-Type of the body (default application/json). */
  contentType?: string
}

export interface ApiResponse<T> {
  status: number
  body: T
}

/**
 * The HTTP client of tenantctl: JSON in and out, bearer token from `TENANTD_TOKEN` or the
 * credentials store, one refresh-and-retry on 401, and server errors turned into ApiError.
 *
 * @example
 *   const api = new ApiClient({ baseUrl: 'http://127.0.0.1:5000', store })
 *   const { body } = await api.request<Tenant>('GET', '/api/admin/tenants/acme')
 */
export class ApiClient {
  readonly baseUrl: string
  private readonly envToken: string | undefined
  private readonly store: CredentialsStore
  private credentials: StoredCredentials | undefined
  private credentialsLoaded = false

  constructor(options: { baseUrl: string; envToken?: string; store: CredentialsStore }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.envToken = options.envToken || undefined
    this.store = options.store
  }

  /**
   * Sends one request and returns the parsed answer; throws ApiError on a 4xx/5xx and
   * CliError when tenantd cannot be reached.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const auth = options.auth ?? true
    const token = auth ? await this.accessToken() : undefined
    let response = await this.send(method, path, options, token)
    if (response.status === 401 && auth && !this.envToken && (await this.refresh())) {
      response = await this.send(method, path, options, await this.accessToken())
    }
    return this.parse<T>(response)
  }

  /**
   * A request whose body or answer is a stream (`tenantctl export`, `import`): no timeout,
   * the body made by `body()` (called again for the one retry after a token refresh), and the
   * raw Response returned on success for the caller to read; errors as in request().
   *
   * @example
   *   const response = await api.stream('GET', '/api/tenants/export', { query: { tenantId: 'acme' } })
   *   await pipeline(Readable.fromWeb(response.body!), createWriteStream('acme.json'))
   */
  async stream(method: string, path: string, options: StreamRequestOptions = {}): Promise<Response> {
    const send = async (token: string | undefined) => {
      const url = new URL(this.baseUrl + path)
      for (const [key, value] of Object.entries(options.query ?? {})) {
        if (value !== undefined && value !== '') url.searchParams.set(key, String(value))
      }
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
      if (token) headers.authorization = `Bearer ${token}`
      const body = options.body?.()
      if (body) headers['content-type'] = options.contentType ?? 'application/json'
      try {
        return await fetch(url, { method, headers, ...(body ? { body, duplex: 'half' } : {}) } as RequestInit)
      } catch (error) {
        throw this.unreachable(error)
      }
    }
    let response = await send(await this.accessToken())
    if (response.status === 401 && !this.envToken && (await this.refresh())) {
      await response.body?.cancel().catch(() => {})
      response = await send(await this.accessToken())
    }
    if (!response.ok) await this.parse(response)
    return response
  }

  /** The stored session, when it belongs to this server. */
  async session(): Promise<StoredCredentials | undefined> {
    if (!this.credentialsLoaded) {
      const stored = await this.store.load()
      // Never send a token to a server other than the one that issued it.
      this.credentials = stored && sameOrigin(stored.url, this.baseUrl) ? stored : undefined
      this.credentialsLoaded = true
    }
    return this.credentials
  }

  private async accessToken(): Promise<string | undefined> {
    return this.envToken ?? (await this.session())?.accessToken
  }

  /** Trades the stored refresh token for a new pair; false when there is none or it is refused. */
  private async refresh(): Promise<boolean> {
    const loaded = await this.session()
    if (!loaded) return false
    // Another tenantctl run may have refreshed meanwhile; its refresh token spent ours, and
    // presenting a spent one revokes the whole session. Take its fresh pair instead.
    const latest = await this.store.load()
    if (latest && latest.url === loaded.url && latest.refreshToken !== loaded.refreshToken) {
      this.credentials = latest
      return true
    }
    const current = loaded
    const response = await this.send('POST', '/api/auth/refresh', { body: { refreshToken: current.refreshToken } })
    if (!response.ok) return false
    const pair = (await response.json()) as TokenPair
    this.credentials = { ...current, accessToken: pair.accessToken, refreshToken: pair.refreshToken }
    await this.store.save(this.credentials)
    return true
  }

  private async send(method: string, path: string, options: RequestOptions, token?: string): Promise<Response> {
    const url = new URL(this.baseUrl + path)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
    try {
      const timeoutMs = options.timeoutMs === undefined ? requestTimeoutMs : options.timeoutMs
      return await fetch(url, { method, headers, body, ...(timeoutMs === null ? {} : { signal: AbortSignal.timeout(timeoutMs) }) })
    } catch (error) {
      throw this.unreachable(error)
    }
  }

  private unreachable(error: unknown): CliError {
    const cause = (error as { cause?: { code?: string } }).cause
    if ((error as Error).name === 'TimeoutError') {
      return new CliError(`tenantd at ${this.baseUrl} did not answer within ${requestTimeoutMs / 1000} s`, { cause: error })
    }
    if (cause?.code === 'ECONNREFUSED') {
      return new CliError(`cannot reach tenantd at ${this.baseUrl}: is it running? (npm start)`, {
        hint: 'set TENANTD_URL if it listens elsewhere',
        cause: error,
      })
    }
    const reason = cause?.code ?? (error as Error).message
    return new CliError(`cannot reach tenantd at ${this.baseUrl}: ${reason}`, { cause: error })
  }

  private async parse<T>(response: Response): Promise<ApiResponse<T>> {
    const text = await response.text()
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      body = undefined
      if (response.ok) throw new CliError(`tenantd answered ${response.status} with a body that is not JSON`)
    }
    if (!response.ok) throw toApiError(response, body)
    return { status: response.status, body: body as T }
  }
}

function toApiError(response: Response, body: unknown): ApiError {
  const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown }
  const code = typeof error === 'string' ? error : `HTTP${response.status}`
  const text = typeof message === 'string' ? message : `tenantd answered ${response.status} ${response.statusText}`
  return new ApiError(response.status, code, text, hintFor(response, code))
}

/** A next step for the errors where one is obvious. */
function hintFor(response: Response, code: string): string | undefined {
  if (response.status === 401) return 'run `tenantctl login`'
  if (code === 'CrossTenantAccessBlocked') return 'this token belongs to another tenant; run `tenantctl login` as an operator'
  if (code === 'Forbidden') return 'your account lacks the role for this; `tenantctl whoami` shows it'
  const retryAfter = response.headers.get('retry-after')
  if ((response.status === 429 || response.status === 503) && retryAfter) return `retry in ${retryAfter} s`
  return undefined
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin
  } catch {
    return false
  }
}
