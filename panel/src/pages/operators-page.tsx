import { useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import type { Operator } from '../api/api-types.js'
import { ConfirmDialog } from '../components/confirm-dialog.js'
import { DataTable, actionsColumn } from '../components/data-table.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../components/feedback.js'
import { SelectField, TextField } from '../components/field.js'
import { PageHeader } from '../components/layout.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { useSession } from '../hooks/use-session.js'
import { formatDate, roleLabel } from '../format.js'
import { Link, basePath } from '../router/router.js'

type Dialog = { kind: 'revoke' | 'remove'; operator: Operator }

/**
 * The control plane's accounts: super-admins, and tenant admins bound to one tenant. Add one;
 * revoke every session of one at once (runbook 004, suspected account compromise); remove
 * one. The signed-in operator's own row offers neither action.
 */
export function OperatorsPage() {
  useTitle('Operators')
  const state = useSession()
  const me = state.status === 'signedIn' ? state.user.id : undefined
  const list = useApi<{ items: Operator[] }>('/api/admin/operators')
  const [dialog, setDialog] = useState<Dialog | undefined>(undefined)
  const [notice, setNotice] = useState<string | undefined>(undefined)

  return (
    <>
      <PageHeader title="Operators" subtitle="Who may sign in to the control plane: super-admins run the fleet, tenant admins one tenant." />
      {notice && <Notice>{notice}</Notice>}
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="operators" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No operators." />}
      {list.data && list.data.items.length > 0 && (
        <DataTable label="Operators" columns={['Operator', 'Role', 'Tenant', 'Last sign-in', 'Created', actionsColumn]}>
          {list.data.items.map((operator) => (
            <tr key={operator.id} data-operator={operator.email}>
              <td>
                <span class="strong">{operator.email}</span>
                {operator.id === me && <span class="tag tag-quiet">you</span>}
                {operator.name && <div class="muted small">{operator.name}</div>}
              </td>
              <td>{roleLabel(operator.role)}</td>
              <td>
                {operator.role !== 'tenant_admin' ? (
                  <span class="muted">All tenants</span>
                ) : operator.tenantSlug ? (
                  <Link href={`${basePath}/tenants/${encodeURIComponent(operator.tenantSlug)}`} class="mono">
                    {operator.tenantSlug}
                  </Link>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td class="nowrap">{operator.lastLoginAt ? formatDate(operator.lastLoginAt) : <span class="muted">never</span>}</td>
              <td class="nowrap">{formatDate(operator.createdAt)}</td>
              <td class="actions">
                {operator.id !== me && (
                  <>
                    <button type="button" class="button button-small" onClick={() => setDialog({ kind: 'revoke', operator })} aria-label={`Revoke sessions of ${operator.email}`}>
                      Revoke sessions
                    </button>
                    <button type="button" class="button button-small button-danger-quiet" onClick={() => setDialog({ kind: 'remove', operator })} aria-label={`Remove ${operator.email}`}>
                      Remove
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <OperatorAddForm
        onAdded={() => {
          setNotice(undefined)
          list.reload()
        }}
      />
      {dialog?.kind === 'revoke' && (
        <ConfirmDialog
          title={`Revoke every session of ${dialog.operator.email}?`}
          confirmLabel="Revoke sessions"
          danger
          onConfirm={async () => {
            const { revoked } = await api.post<{ revoked: number }>(`/api/admin/operators/${encodeURIComponent(dialog.operator.id)}/revoke-sessions`)
            setNotice(`${revoked} session(s) of ${dialog.operator.email} revoked; access tokens already issued expire within minutes.`)
            list.reload()
          }}
          onClose={() => setDialog(undefined)}
        >
          <p>
            Every refresh token of {dialog.operator.email} is revoked: each browser and tenantctl signed in as this operator must sign in again. Access tokens already issued
            expire on their own within minutes.
          </p>
          <p class="muted small">Runbook 004: do this first when the account may be compromised.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove ${dialog.operator.email}?`}
          confirmLabel="Remove operator"
          danger
          onConfirm={async () => {
            await api.delete(`/api/admin/operators/${encodeURIComponent(dialog.operator.id)}`)
            setNotice(`${dialog.operator.email} is removed; its sessions have ended.`)
            list.reload()
          }}
          onClose={() => setDialog(undefined)}
        >
          <p>
            {dialog.operator.email} can no longer sign in, and its sessions end. This cannot be undone: to let them back in, add the operator again. The audit log keeps what
            they did.
          </p>
        </ConfirmDialog>
      )}
    </>
  )
}

interface Form {
  email: string
  name: string
  role: Operator['role']
  tenant: string
  password: string
}

type Errors = Partial<Record<keyof Form, string>>

const empty: Form = { email: '', name: '', role: 'super_admin', tenant: '', password: '' }
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const roleOptions = (['super_admin', 'tenant_admin'] as const).map((role) => ({ value: role, label: roleLabel(role) }))

/** What is wrong with the form, field by field (empty when it may be sent); the server checks again. */
function validate(form: Form): Errors {
  const errors: Errors = {}
  if (!emailPattern.test(form.email.trim())) errors.email = 'Enter an email address like ops@example.com.'
  if (form.role === 'tenant_admin' && !form.tenant.trim()) errors.tenant = 'A tenant admin administers one tenant: give its slug.'
  if (form.password.length < 8) errors.password = 'At least 8 characters.'
  return errors
}

/**
 * "Add operator" (POST /api/admin/operators). The password is sent once and never shown
 * again: the field is a password field, cleared after each attempt.
 */
function OperatorAddForm({ onAdded }: { onAdded(operator: Operator): void }) {
  const [form, setForm] = useState<Form>(empty)
  const [touched, setTouched] = useState<Partial<Record<keyof Form, boolean>>>({})
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [added, setAdded] = useState<Operator | undefined>(undefined)
  const errors = validate(form)
  const shown = (field: keyof Form) => (submitted || touched[field] ? errors[field] : undefined)
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }))
  const blur = (field: keyof Form) => () => setTouched((t) => ({ ...t, [field]: true }))

  const submit = async (event: Event) => {
    event.preventDefault()
    setSubmitted(true)
    const firstInvalid = Object.keys(errors)[0]
    if (firstInvalid) {
      document.getElementById(`field-operator-${firstInvalid}`)?.focus()
      return
    }
    setBusy(true)
    setError(undefined)
    setAdded(undefined)
    try {
      const body = {
        email: form.email.trim(),
        password: form.password,
        role: form.role,
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
        ...(form.role === 'tenant_admin' ? { tenant: form.tenant.trim().toLowerCase() } : {}),
      }
      const operator = await api.post<Operator>('/api/admin/operators', body)
      setForm(empty)
      setTouched({})
      setSubmitted(false)
      setAdded(operator)
      onAdded(operator)
    } catch (failure) {
      setError(failure)
      setForm((f) => ({ ...f, password: '' }))
      setTouched((t) => ({ ...t, password: false }))
      setSubmitted(false)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="card form" onSubmit={submit} noValidate aria-labelledby="add-operator-title">
      <h2 id="add-operator-title">Add an operator</h2>
      <ErrorBanner error={error} />
      {added && (
        <Notice>
          {added.email} can now sign in as {roleLabel(added.role).toLowerCase()}
          {added.tenantSlug ? ` of ${added.tenantSlug}` : ''}.
        </Notice>
      )}
      <div class="grid-2">
        <TextField label="Email" name="operator-email" type="email" required value={form.email} onValue={set('email')} onBlur={blur('email')} error={shown('email')} autoComplete="off" spellcheck={false} autoCapitalize="none" />
        <TextField label="Name" name="operator-name" value={form.name} onValue={set('name')} autoComplete="off" />
        <SelectField
          label="Role"
          name="operator-role"
          value={form.role}
          onValue={set('role')}
          options={roleOptions}
          hint={form.role === 'super_admin' ? 'Runs the whole fleet, operators included.' : 'Administers one tenant only.'}
        />
        {form.role === 'tenant_admin' && (
          <TextField label="Tenant" name="operator-tenant" required value={form.tenant} onValue={set('tenant')} onBlur={blur('tenant')} error={shown('tenant')} hint="The slug of the tenant it administers." autoComplete="off" spellcheck={false} autoCapitalize="none" />
        )}
        <TextField
          label="Password"
          name="operator-password"
          type="password"
          required
          value={form.password}
          onValue={set('password')}
          onBlur={blur('password')}
          error={shown('password')}
          hint="At least 8 characters; stored only as an argon2id hash."
          autoComplete="new-password"
        />
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add operator'}
        </button>
      </div>
    </form>
  )
}
