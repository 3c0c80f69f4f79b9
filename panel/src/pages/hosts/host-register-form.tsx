import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { DatabaseHost } from '../../api/api-types.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { TextField } from '../../components/field.js'

interface Form {
  name: string
  host: string
  port: string
  adminUser: string
  adminPassword: string
  maxTenants: string
}

const empty: Form = { name: '', host: '', port: '5432', adminUser: '', adminPassword: '', maxTenants: '' }
type Errors = Partial<Record<keyof Form, string>>

function validate(form: Form): Errors {
  const errors: Errors = {}
  if (!form.name.trim()) errors.name = 'Name the host, e.g. db2.'
  if (!form.host.trim()) errors.host = 'The address tenantd connects to, e.g. 10.0.0.50.'
  const port = Number(form.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) errors.port = 'A port from 1 to 65535.'
  if (!form.adminUser.trim()) errors.adminUser = 'A role with CREATEDB and CREATEROLE (deploy/db-host-role.sql).'
  if (!form.adminPassword) errors.adminPassword = "The role's password."
  if (form.maxTenants.trim() && !(Number.isInteger(Number(form.maxTenants)) && Number(form.maxTenants) >= 1)) errors.maxTenants = 'A whole number, at least 1, or empty for no limit.'
  return errors
}

/**
 * Register a db host (POST /api/admin/hosts; tenantd logs in with the admin role first). The
 * password is sent once and never shown again: the field is a password field, cleared after.
 */
export function HostRegisterForm({ onRegistered, onCancel }: { onRegistered(host: DatabaseHost): void; onCancel(): void }) {
  const [form, setForm] = useState<Form>(empty)
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const errors = validate(form)
  const shown = (field: keyof Form) => (submitted ? errors[field] : undefined)
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }))

  const submit = async (event: Event) => {
    event.preventDefault()
    setSubmitted(true)
    const firstInvalid = Object.keys(errors)[0]
    if (firstInvalid) {
      document.getElementById(`field-host-${firstInvalid}`)?.focus()
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      const body = {
        name: form.name.trim(),
        host: form.host.trim(),
        port: Number(form.port),
        adminUser: form.adminUser.trim(),
        adminPassword: form.adminPassword,
        ...(form.maxTenants.trim() ? { maxTenants: Number(form.maxTenants) } : {}),
      }
      const host = await api.post<DatabaseHost>('/api/admin/hosts', body)
      setForm(empty)
      setSubmitted(false)
      onRegistered(host)
    } catch (failure) {
      setError(failure)
      setForm((f) => ({ ...f, adminPassword: '' }))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="card form" onSubmit={submit} noValidate aria-labelledby="register-title">
      <h2 id="register-title">Register a database host</h2>
      <ErrorBanner error={error} />
      <div class="grid-2">
        <TextField label="Name" name="host-name" required value={form.name} onValue={set('name')} error={shown('name')} autoComplete="off" spellcheck={false} />
        <TextField label="Address" name="host-host" required value={form.host} onValue={set('host')} error={shown('host')} hint="Host name or IP that tenantd and the tenants reach." autoComplete="off" spellcheck={false} />
        <TextField label="Port" name="host-port" required value={form.port} onValue={set('port')} error={shown('port')} inputMode="numeric" autoComplete="off" />
        <TextField label="Most tenants" name="host-maxTenants" value={form.maxTenants} onValue={set('maxTenants')} error={shown('maxTenants')} hint="Empty: no limit." inputMode="numeric" autoComplete="off" />
        <TextField label="Admin role" name="host-adminUser" required value={form.adminUser} onValue={set('adminUser')} error={shown('adminUser')} hint="CREATEDB, CREATEROLE and, for moves, REPLICATION." autoComplete="off" spellcheck={false} />
        <TextField label="Admin password" name="host-adminPassword" type="password" required value={form.adminPassword} onValue={set('adminPassword')} error={shown('adminPassword')} hint="Sealed in the catalog; never shown again." autoComplete="new-password" />
      </div>
      <div class="form-actions">
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Register host'}
        </button>
      </div>
    </form>
  )
}
