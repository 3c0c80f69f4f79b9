/**
 * A failed API call: the `{ error, message }` tenantd answered (API.md "Errors"), the status,
 * and a next step where one is obvious.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Turns a non-2xx answer into an ApiError; the body is tenantd's JSON error when it has one. */
export function apiErrorOf(response: Response, body: unknown): ApiError {
  const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown }
  const code = typeof error === 'string' ? error : `HTTP${response.status}`
  const text = typeof message === 'string' ? message : `tenantd answered ${response.status} ${response.statusText}`
  return new ApiError(response.status, code, text, hintFor(response, code))
}

/** The error of a request that never got an answer. */
export function unreachable(cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new ApiError(0, 'Unreachable', `tenantd did not answer (${detail}).`, 'Check that tenantd is running, then retry.')
}

function hintFor(response: Response, code: string): string | undefined {
  if (code === 'Forbidden') return 'Your account lacks the role for this; a super-admin can do it.'
  const retryAfter = response.headers.get('retry-after')
  if ((response.status === 429 || response.status === 503) && retryAfter) return `Retry in ${retryAfter} s.`
  return undefined
}
