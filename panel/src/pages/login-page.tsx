import { useState } from 'preact/hooks'
import type { CurrentTenant } from '../api/api-types.js'
import { session } from '../api/session.js'
import { ErrorBanner } from '../components/error-banner.js'
import { TextField } from '../components/field.js'
import { useTitle } from '../hooks/use-api.js'

/**
 * Sign in (POST /api/auth/login, as `tenantctl login`). On the control host that is an
 * operator; on a tenant's own address (`tenant` given) it is one of that tenant's users, and
 * the page says which tenant. The app then returns to the page the user was on (`?next=`).
 */
export function LoginPage({ expired, tenant }: { expired: boolean; tenant?: CurrentTenant }) {
  useTitle(tenant ? `Sign in to ${tenant.name}` : 'Sign in')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await session.signIn(email.trim(), password)
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }

  return (
    <div class="login">
      <main id="main" class="login-card">
        <p class="brand brand-large">
          {tenant?.logoUrl ? <img class="brand-logo brand-logo-large" src={tenant.logoUrl} alt="" /> : <span class="brand-mark" aria-hidden="true" />}
          {tenant ? tenant.name : 'tenantd'}
        </p>
        <h1>{tenant ? `Sign in to ${tenant.name}` : 'Sign in'}</h1>
        <p class="muted">{tenant ? `With your ${tenant.name} account.` : "The control panel of your tenants' databases."}</p>
        {expired && (
          <div class="banner banner-warn" role="status">
            <div class="banner-body">Your session ended. Sign in again to go back to the page you were on.</div>
          </div>
        )}
        <ErrorBanner error={error} />
        <form onSubmit={submit} class="form">
          <TextField label="Email" name="email" type="email" autoComplete="username" required value={email} onValue={setEmail} />
          <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onValue={setPassword} />
          <button type="submit" class="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  )
}
