import { parse, send, type QueryValue } from './http.js'
import { session, type Session } from './session.js'

export interface RequestOptions {
  query?: Record<string, QueryValue>
  body?: unknown
  /** A file sent as the body with its own type (see upload). */
  file?: Blob
}

/**
 * The panel's client of the public API (the routes tenantctl uses): JSON in and out, the
 * session's bearer token, one refresh-and-retry on 401, and a refused session sent back to
 * sign-in. Errors are ApiErrors carrying tenantd's message.
 *
 * @example
 *   const tenant = await api.get<Tenant>(`/api/admin/tenants/${encodeURIComponent(slug)}`)
 */
export class ApiClient {
  constructor(private readonly session: Session) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return parse<T>(await this.#send(method, path, options))
  }

  /**
   * A GET whose answer is a file (e.g. the JSON export): its body as a Blob and the name the
   * server gave it (Content-Disposition), or `fallbackName`. Errors are ApiErrors, as for JSON.
   */
  async download(path: string, query: RequestOptions['query'], fallbackName: string): Promise<{ blob: Blob; filename: string }> {
    const response = await this.#send('GET', path, { query })
    if (!response.ok) return parse<never>(response)
    const disposition = response.headers.get('content-disposition') ?? ''
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName
    return { blob: await response.blob(), filename }
  }

  /** A PUT of a file as it is (e.g. a logo): the browser's type for it is the Content-Type. */
  upload<T>(path: string, file: Blob): Promise<T> {
    return this.request<T>('PUT', path, { file })
  }

  /** A GET of an image the API guards (e.g. a tenant's logo), as a blob: URL for an <img>; the caller revokes it. */
  async imageUrl(path: string): Promise<string> {
    const response = await this.#send('GET', path, {})
    if (!response.ok) return parse<never>(response)
    return URL.createObjectURL(await response.blob())
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body })
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query })
  }

  /** A POST; lifecycle routes take an optional body, so `{}` is sent when there is none. */
  post<T>(path: string, body: unknown = {}, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('POST', path, { body, query })
  }

  delete<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('DELETE', path, { query })
  }

  /** Sends with the session's token; on 401 refreshes once and sends again, else back to sign-in. */
  async #send(method: string, path: string, options: RequestOptions): Promise<Response> {
    let response = await send(method, path, { ...options, token: await this.session.accessToken() })
    if (response.status === 401) {
      if (await this.session.refresh()) response = await send(method, path, { ...options, token: await this.session.accessToken() })
      if (response.status === 401) this.session.expire()
    }
    return response
  }
}

export const api = new ApiClient(session)

/** `/api/admin/tenants/<id><rest>`, the id escaped. */
export function tenantPath(id: string, rest = ''): string {
  return `/api/admin/tenants/${encodeURIComponent(id)}${rest}`
}
