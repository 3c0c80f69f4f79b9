import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { MigrationRunStarted } from '../../api/api-types.js'
import { ErrorBanner } from '../../components/error-banner.js'

const whole = (text: string, min: number, max: number) => /^\d+$/.test(text.trim()) && Number(text) >= min && Number(text) <= max

/**
 * Run tenant migrations across the fleet (POST /api/admin/migrations/run): a dry run by
 * default (what each tenant lacks, nothing applied), a canary (the first N tenants one at a
 * time, a failure among them stops the run) and the concurrency.
 */
export function MigrationRunForm({ disabled, onStarted }: { disabled: boolean; onStarted(started: MigrationRunStarted, dryRun: boolean): void }) {
  const [dryRun, setDryRun] = useState(true)
  const [canary, setCanary] = useState('0')
  const [concurrency, setConcurrency] = useState('4')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const canaryOk = whole(canary, 0, 10_000)
  const concurrencyOk = whole(concurrency, 1, 32)

  const submit = async (event: Event) => {
    event.preventDefault()
    if (!canaryOk || !concurrencyOk) return
    setBusy(true)
    setError(undefined)
    try {
      const started = await api.post<MigrationRunStarted>('/api/admin/migrations/run', { dryRun, canary: Number(canary), concurrency: Number(concurrency) })
      onStarted(started, dryRun)
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="form" onSubmit={submit} noValidate aria-label="Run migrations">
      <ErrorBanner error={error} />
      <label class="check">
        <input type="checkbox" name="dry-run" checked={dryRun} onChange={(event) => setDryRun(event.currentTarget.checked)} />
        <span>Dry run: show what each tenant lacks, apply nothing</span>
      </label>
      <div class="form-row">
        <div class={`field${canaryOk ? '' : ' field-invalid'}`}>
          <label for="run-canary">Canary tenants</label>
          <input id="run-canary" name="canary" inputMode="numeric" value={canary} aria-invalid={canaryOk ? undefined : 'true'} aria-describedby="run-canary-hint" onInput={(event) => setCanary(event.currentTarget.value)} />
          <p class="field-hint" id="run-canary-hint">
            {canaryOk ? 'First, one at a time; a failure stops the run.' : 'A whole number from 0 to 10000.'}
          </p>
        </div>
        <div class={`field${concurrencyOk ? '' : ' field-invalid'}`}>
          <label for="run-concurrency">At once</label>
          <input id="run-concurrency" name="concurrency" inputMode="numeric" value={concurrency} aria-invalid={concurrencyOk ? undefined : 'true'} aria-describedby="run-concurrency-hint" onInput={(event) => setConcurrency(event.currentTarget.value)} />
          <p class="field-hint" id="run-concurrency-hint">
            {concurrencyOk ? 'Databases migrated in parallel (1–32).' : 'A whole number from 1 to 32.'}
          </p>
        </div>
      </div>
      <div class="form-actions">
        <button type="submit" class={`button ${dryRun ? 'button-primary' : 'button-danger'}`} disabled={disabled || busy || !canaryOk || !concurrencyOk}>
          {busy ? 'Starting…' : dryRun ? 'Dry run' : 'Run migrations'}
        </button>
      </div>
    </form>
  )
}
