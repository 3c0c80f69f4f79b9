import type { ApiError } from '../../api/api-error.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { useTitle } from '../../hooks/use-api.js'

/**
 * The address names a tenant that does not serve (unknown, suspended, deleted), or tenantd
 * did not answer: there is nothing to sign in to; tenantd's message says why.
 */
export function SiteUnavailablePage({ error, onRetry }: { error: ApiError; onRetry(): void }) {
  useTitle('Unavailable')
  return (
    <div class="login">
      <main id="main" class="login-card">
        <p class="brand brand-large">
          <span class="brand-mark" aria-hidden="true" />
          tenantd
        </p>
        <h1>This address is not available</h1>
        <ErrorBanner error={error} onRetry={onRetry} />
      </main>
    </div>
  )
}
