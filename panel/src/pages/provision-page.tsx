import { useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import type { DatabaseHost, Module, Operation, Plan, Tenant } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { Notice } from '../components/feedback.js'
import { SelectField, TextField } from '../components/field.js'
import { PageHeader } from '../components/layout.js'
import { OperationProgress } from '../components/operation-progress.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { Link, basePath } from '../router/router.js'

/** The server's rule (src/provisioning/tenant-naming.ts), checked here only to answer sooner. */
const slugPattern = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,39}$/
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

interface Form {
  name: string
  slug: string
  subdomain: string
  plan: string
  hostId: string
  contactEmail: string
  adminName: string
  adminEmail: string
  adminPassword: string
  modules: string[]
}

type Errors = Partial<Record<keyof Form, string>>

const empty: Form = { name: '', slug: '', subdomain: '', plan: 'free', hostId: '', contactEmail: '', adminName: '', adminEmail: '', adminPassword: '', modules: [] }

/** What is wrong with the form, field by field (empty when it may be sent). */
function validate(form: Form): Errors {
  const errors: Errors = {}
  if (!form.name.trim()) errors.name = 'Give the tenant a name.'
  for (const field of ['slug', 'subdomain'] as const) {
    const value = form[field].trim()
    if (value && !slugPattern.test(value)) errors[field] = 'Use 3–40 lowercase letters, digits and single hyphens, starting with a letter.'
  }
  if (form.contactEmail.trim() && !emailPattern.test(form.contactEmail.trim())) errors.contactEmail = 'Enter an email address like ops@example.com.'
  const adminEmail = form.adminEmail.trim()
  if (adminEmail && !emailPattern.test(adminEmail)) errors.adminEmail = 'Enter an email address like admin@example.com.'
  if (adminEmail && !form.adminPassword) errors.adminPassword = 'The first admin needs a password (at least 8 characters).'
  if (!adminEmail && form.adminPassword) errors.adminEmail = 'Give the admin\'s email with the password, or clear the password.'
  if (form.adminPassword && form.adminPassword.length < 8) errors.adminPassword = 'At least 8 characters.'
  return errors
}

/** The provision request: only the fields given, trimmed (the server derives the rest). */
function bodyOf(form: Form): Record<string, unknown> {
  const body: Record<string, unknown> = { name: form.name.trim(), plan: form.plan }
  for (const field of ['slug', 'subdomain', 'hostId', 'contactEmail', 'adminName', 'adminEmail'] as const) {
    const value = form[field].trim()
    if (value) body[field] = field === 'slug' || field === 'subdomain' ? value.toLowerCase() : value
  }
  if (form.adminPassword) body.adminPassword = form.adminPassword
  if (form.modules.length) body.modules = form.modules
  return body
}

/**
 * "Provision New Tenant" (runbook 002): the form, checked as the operator types, then the
 * provision operation's live progress until the tenant is active.
 */
export function ProvisionPage() {
  useTitle('New tenant')
  const [form, setForm] = useState<Form>(empty)
  const [touched, setTouched] = useState<Partial<Record<keyof Form, boolean>>>({})
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [started, setStarted] = useState<{ tenant: Tenant; operationId: string } | undefined>(undefined)
  const [outcome, setOutcome] = useState<Operation | undefined>(undefined)
  const plans = useApi<{ items: Plan[] }>('/api/admin/plans')
  const hosts = useApi<{ items: DatabaseHost[] }>('/api/admin/hosts')
  const modules = useApi<{ items: Module[] }>('/api/admin/modules')

  const errors = validate(form)
  const shown = (field: keyof Form) => (submitted || touched[field] ? errors[field] : undefined)
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }))
  const blur = (field: keyof Form) => () => setTouched((t) => ({ ...t, [field]: true }))
  const toggleModule = (name: string) => setForm((f) => ({ ...f, modules: f.modules.includes(name) ? f.modules.filter((m) => m !== name) : [...f.modules, name] }))

  const submit = async (event: Event) => {
    event.preventDefault()
    setSubmitted(true)
    const firstInvalid = Object.keys(errors)[0]
    if (firstInvalid) {
      document.getElementById(`field-${firstInvalid}`)?.focus()
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      setStarted(await api.post<{ tenant: Tenant; operationId: string }>('/api/admin/tenants/provision', bodyOf(form)))
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  if (started) {
    const href = `${basePath}/tenants/${encodeURIComponent(started.tenant.slug)}`
    return (
      <>
        <PageHeader title={`Provisioning ${started.tenant.name}`} subtitle={<span class="mono">{started.tenant.slug}</span>} />
        <section class="card" aria-labelledby="progress-title">
          <h2 id="progress-title">Progress</h2>
          <OperationProgress operationId={started.operationId} onFinished={setOutcome} />
          {outcome?.status === 'succeeded' && (
            <Notice>
              <p>
                {started.tenant.name} is active. <Link href={href}>Open {started.tenant.name}</Link>
              </p>
            </Notice>
          )}
        </section>
      </>
    )
  }

  const planOptions = (plans.data?.items ?? [{ id: 'free', name: 'free' } as Plan]).map((p) => ({ value: p.id, label: p.name === p.id ? p.id : `${p.name} (${p.id})` }))
  const hostOptions = [{ value: '', label: 'Automatic (the host with most room)' }, ...(hosts.data?.items ?? []).filter((h) => h.status === 'active').map((h) => ({ value: h.id, label: h.name }))]

  return (
    <>
      <PageHeader title="New tenant" subtitle="A login role, a database, the base schema and the first admin user." />
      <ErrorBanner error={error} />
      <ErrorBanner error={plans.error ?? hosts.error ?? modules.error} />
      <form class="card form" onSubmit={submit} noValidate>
        <fieldset>
          <legend>Tenant</legend>
          <div class="grid-2">
            <TextField label="Name" name="name" required value={form.name} onValue={set('name')} onBlur={blur('name')} error={shown('name')} autoComplete="organization" />
            <TextField label="Contact email" name="contactEmail" type="email" value={form.contactEmail} onValue={set('contactEmail')} onBlur={blur('contactEmail')} error={shown('contactEmail')} hint="Defaults to the admin's email." />
            <TextField label="Slug" name="slug" value={form.slug} onValue={set('slug')} onBlur={blur('slug')} error={shown('slug')} hint="Names the database. Derived from the name when empty." spellcheck={false} autoCapitalize="none" />
            <TextField label="Subdomain" name="subdomain" value={form.subdomain} onValue={set('subdomain')} onBlur={blur('subdomain')} error={shown('subdomain')} hint="Where the tenant answers. Defaults to the slug." spellcheck={false} autoCapitalize="none" />
            <SelectField label="Plan" name="plan" value={form.plan} onValue={set('plan')} options={planOptions} />
            <SelectField label="Database host" name="hostId" value={form.hostId} onValue={set('hostId')} options={hostOptions} />
          </div>
        </fieldset>
        <fieldset>
          <legend>First admin user</legend>
          <p class="muted small">Optional: give both email and password, or neither.</p>
          <div class="grid-2">
            <TextField label="Admin name" name="adminName" value={form.adminName} onValue={set('adminName')} autoComplete="off" />
            <TextField label="Admin email" name="adminEmail" type="email" value={form.adminEmail} onValue={set('adminEmail')} onBlur={blur('adminEmail')} error={shown('adminEmail')} autoComplete="off" />
            <TextField label="Admin password" name="adminPassword" type="password" value={form.adminPassword} onValue={set('adminPassword')} onBlur={blur('adminPassword')} error={shown('adminPassword')} hint="At least 8 characters; stored only as an argon2id hash." autoComplete="new-password" />
          </div>
        </fieldset>
        {(modules.data?.items.length ?? 0) > 0 && (
          <fieldset>
            <legend>Modules</legend>
            <div class="checks">
              {modules.data!.items.map((m) => (
                <label key={m.name} class="check">
                  <input type="checkbox" name="modules" value={m.name} checked={form.modules.includes(m.name)} onChange={() => toggleModule(m.name)} />
                  <span>
                    <span class="strong">{m.name}</span> <span class="muted small">{m.description}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        )}
        <div class="form-actions">
          <Link href={`${basePath}/tenants`} class="button">
            Cancel
          </Link>
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Starting…' : 'Provision tenant'}
          </button>
        </div>
      </form>
    </>
  )
}
