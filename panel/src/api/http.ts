import { apiErrorOf, unreachable } from './api-error.js'

export type QueryValue = string | number | boolean | undefined

export interface SendOptions {
  query?: Record<string, QueryValue>
  body?: unknown
  /** A file sent as it is (a logo), with its own Content-Type, instead of a JSON body. */
  file?: Blob
  token?: string
}

/**
 * One JSON request to tenantd (same origin). The token goes in the Authorization header,
 * never in the URL; a request that gets no answer throws an ApiError "Unreachable".
 */
export async function send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
  const url = new URL(path, window.location.origin)
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value))
  }
  const headers: Record<string, string> = { accept: 'application/json' }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: string | Blob | undefined
  if (options.file) {
    headers['content-type'] = options.file.type || 'application/octet-stream'
    body = options.file
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  try {
    return await fetch(url, { method, headers, body, credentials: 'omit', cache: 'no-store' })
  } catch (error) {
    throw unreachable(error)
  }
}

/** The parsed JSON of a 2xx answer (undefined for an empty one); an ApiError otherwise. */
export async function parse<T>(response: Response): Promise<T> {
  const text = await response.text()
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!response.ok) throw apiErrorOf(response, body)
  return body as T
}
