import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import type { Branding } from '../api/api-types.js'
import { formatBytes, formatDate } from '../format.js'
import { useApi } from '../hooks/use-api.js'
import { brandingChanged, useBrandingVersion, useGuardedImage } from '../hooks/use-branding.js'
import { ErrorBanner } from './error-banner.js'
import { Loading, Notice } from './feedback.js'
import { TextField } from './field.js'

export interface BrandingPaths {
  /** GET: name and logo facts. */
  branding: string
  /** GET the image, PUT a new one, DELETE it. */
  logo: string
  /** PATCH `{name}` to rename; absent when this user may not rename. */
  rename?: string
}

const accepted = 'image/png,image/jpeg,image/webp,image/gif'

/**
 * A tenant's branding (runbook 003's coat of arms): the logo shown in the panel header for its
 * admins and on its sign-in page, and its display name. Operators use the admin routes, a
 * tenant's own admins /api/tenants/current; the server checks the file (type, bytes, size) and
 * its message is shown as it is.
 */
export function BrandingCard({ paths, onChanged }: { paths: BrandingPaths; onChanged?(): void }) {
  const branding = useApi<Branding>(paths.branding)
  // brandingChanged() below bumps this for every logo on the page, this preview included.
  const logoUrl = useGuardedImage(branding.data?.logo ? paths.logo : null, useBrandingVersion())
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [done, setDone] = useState<string | undefined>(undefined)
  useEffect(() => {
    if (branding.data) setName(branding.data.name)
  }, [branding.data?.name])

  const run = async (what: () => Promise<unknown>, message: string) => {
    setBusy(true)
    setError(undefined)
    setDone(undefined)
    try {
      await what()
      setDone(message)
      branding.reload()
      brandingChanged()
      onChanged?.()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  const upload = (input: HTMLInputElement) => {
    const file = input.files?.[0]
    if (!file) return
    void run(() => api.upload(paths.logo, file), `Logo uploaded: ${file.name}.`).finally(() => (input.value = ''))
  }
  const data = branding.data

  return (
    <section class="card" aria-labelledby="branding-title">
      <h2 id="branding-title">Branding</h2>
      <ErrorBanner error={branding.error} onRetry={branding.reload} />
      {!data && !branding.error && <Loading what="the branding" />}
      {data && (
        <div class="branding">
          <div class="logo-preview">
            {data.logo && logoUrl ? <img src={logoUrl} alt={`Logo of ${data.name}`} /> : <span class="muted small">{data.logo ? '…' : 'No logo'}</span>}
          </div>
          <div class="branding-controls">
            {paths.rename && (
              <form
                class="inline-form"
                onSubmit={(event) => {
                  event.preventDefault()
                  void run(() => api.patch(paths.rename!, { name: name.trim() }), `Renamed to "${name.trim()}".`)
                }}
              >
                <TextField label="Display name" name="brand-name" value={name} onValue={setName} required hint="Shown in the panel header and on the sign-in page." />
                <button type="submit" class="button" disabled={busy || name.trim() === '' || name.trim() === data.name}>
                  Save name
                </button>
              </form>
            )}
            <div class="field">
              <label for="logo-file">{data.logo ? 'Replace the logo' : 'Upload a logo'}</label>
              <input id="logo-file" type="file" accept={accepted} disabled={busy} aria-describedby="logo-file-hint" onChange={(event) => upload(event.currentTarget)} />
              <p id="logo-file-hint" class="field-hint">
                PNG, JPEG, WebP or GIF, at most 512 KB. {data.logo && `Now: ${data.logo.contentType.slice(6).toUpperCase()}, ${formatBytes(data.logo.sizeBytes)}, since ${formatDate(data.logo.updatedAt)}.`}
              </p>
            </div>
            {data.logo && (
              <button type="button" class="button button-small" disabled={busy} onClick={() => void run(() => api.delete(paths.logo), 'Logo removed.')}>
                Remove logo
              </button>
            )}
          </div>
        </div>
      )}
      <ErrorBanner error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  )
}
