import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import { ApiError } from '../../api/api-error.js'
import type { DomainAdded, Tenant, TenantDomain } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../../components/feedback.js'
import { TextField } from '../../components/field.js'
import { useApi } from '../../hooks/use-api.js'
import { DomainTable } from './domain-table.js'

/**
 * Custom domains (README "Custom domains"): add one (pending, with what to point where), verify
 * it (tenantd fetches its token through the name), remove it. Super-admins and the tenant's
 * own tenant admins. A refused name shows the API's message under the field.
 */
export function TenantDomains({ tenant, onChanged }: { tenant: Tenant; onChanged(): void }) {
  const list = useApi<{ items: TenantDomain[] }>(tenantPath(tenant.slug, '/domains'))
  const [name, setName] = useState('')
  const [adding, setAdding] = useState(false)
  const [fieldError, setFieldError] = useState<string | undefined>(undefined)
  const [added, setAdded] = useState<DomainAdded | undefined>(undefined)
  const [verified, setVerified] = useState<TenantDomain | undefined>(undefined)
  const [verifying, setVerifying] = useState<string | undefined>(undefined)
  const [removing, setRemoving] = useState<TenantDomain | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const domainPath = (domain: string, rest = '') => tenantPath(tenant.slug, `/domains/${encodeURIComponent(domain)}${rest}`)
  const clear = () => {
    setAdded(undefined)
    setVerified(undefined)
    setError(undefined)
  }

  const add = async (event: Event) => {
    event.preventDefault()
    clear()
    setFieldError(undefined)
    if (!name.trim()) {
      setFieldError('Enter a domain name, e.g. portal.example.com.')
      return
    }
    setAdding(true)
    try {
      setAdded(await api.post<DomainAdded>(tenantPath(tenant.slug, '/domains'), { domain: name.trim() }))
      setName('')
      list.reload()
      onChanged()
    } catch (failure) {
      // A refused name (400 invalid, 409 taken) belongs under the field; anything else above.
      if (failure instanceof ApiError && (failure.status === 400 || failure.status === 409)) setFieldError(failure.message)
      else setError(failure)
    } finally {
      setAdding(false)
    }
  }
  const verify = async (domain: TenantDomain) => {
    clear()
    setVerifying(domain.domain)
    try {
      setVerified(await api.post<TenantDomain>(domainPath(domain.domain, '/verify')))
    } catch (failure) {
      setError(failure)
    } finally {
      setVerifying(undefined)
      list.reload()
      onChanged()
    }
  }

  return (
    <section class="card" aria-labelledby="domains-title">
      <h2 id="domains-title">Custom domains</h2>
      <p class="muted">
        Besides <span class="mono">{tenant.subdomain}</span>, the tenant answers on domains of its own once each is verified.
      </p>
      <form class="inline-form" onSubmit={add} noValidate>
        <TextField label="Domain" name="domain" value={name} onValue={setName} error={fieldError} hint="e.g. portal.example.com; pending until verified." spellcheck={false} autoCapitalize="none" autoComplete="off" />
        <button type="submit" class="button button-primary" disabled={adding}>
          {adding ? 'Adding…' : 'Add domain'}
        </button>
      </form>
      <ErrorBanner error={error} />
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {added && (
        <Notice>
          <p>
            <span class="mono">{added.domain.domain}</span> added, pending. {added.instructions}
          </p>
        </Notice>
      )}
      {verified && (
        <Notice>
          <span class="mono">{verified.domain}</span> is verified: it now reaches {tenant.name}.
        </Notice>
      )}
      {!list.data && list.loading && <Loading what="domains" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No custom domains." />}
      {list.data && list.data.items.length > 0 && <DomainTable items={list.data.items} verifying={verifying} onVerify={verify} onRemove={setRemoving} />}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.domain}?`}
          confirmLabel="Remove"
          danger
          onConfirm={async () => {
            await api.delete(domainPath(removing.domain))
            clear()
            list.reload()
            onChanged()
          }}
          onClose={() => setRemoving(undefined)}
        >
          <p>It stops routing to {tenant.name} at once. Adding it again needs a new verification.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}
