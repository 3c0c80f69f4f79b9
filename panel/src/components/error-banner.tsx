import { ApiError } from '../api/api-error.js'

/**
 * An API error as the operator should read it: tenantd's message, the next step when there is
 * one, and the error code for a bug report.
 */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  const hint = error instanceof ApiError ? error.hint : undefined
  const code = error instanceof ApiError ? error.code : undefined
  return (
    <div class="banner banner-error" role="alert">
      <div class="banner-body">
        <p class="banner-message">{message}</p>
        {hint && <p class="banner-hint">{hint}</p>}
        {code && <p class="banner-code">{code}</p>}
      </div>
      {onRetry && (
        <button type="button" class="button button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}
