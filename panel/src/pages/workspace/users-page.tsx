import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { TenantUser } from '../../api/api-types.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../../components/feedback.js'
import { SelectField, TextField } from '../../components/field.js'
import { PageHeader } from '../../components/layout.js'
import { StatusBadge } from '../../components/status-badge.js'
import { formatDate, roleLabel } from '../../format.js'
import { useApi, useTitle } from '../../hooks/use-api.js'
import { DataTable } from '../../components/data-table.js'

/**
 * The tenant's own users (GET /api/users, tenant admins only), and adding one
 * (POST /api/users). tenantd checks the input: its message (a short password, an email
 * already taken) is shown as it is.
 */
export function UsersPage({ tenantName }: { tenantName: string }) {
  useTitle('Users')
  const users = useApi<{ items: TenantUser[]; total: number }>('/api/users')
  const [notice, setNotice] = useState<string | undefined>(undefined)

  return (
    <>
      <PageHeader title="Users" subtitle={`Who can sign in to ${tenantName} on this address.`} />
      {notice && <Notice>{notice}</Notice>}
      <ErrorBanner error={users.error} onRetry={users.reload} />
      {!users.data && users.loading && <Loading what="users" />}
      {users.data && users.data.items.length === 0 && <EmptyState title="No users yet." />}
      {users.data && users.data.items.length > 0 && (
        <DataTable label="Users" columns={['Email', 'Name', 'Role', 'Status', 'Added']}>
          {users.data.items.map((user) => (
            <tr key={user.id} data-user={user.email}>
              <td class="strong">{user.email}</td>
              <td>{user.name || '—'}</td>
              <td>{roleLabel(user.role)}</td>
              <td>
                <StatusBadge status={user.active ? 'active' : 'inactive'} />
              </td>
              <td>{formatDate(user.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <AddUserForm
        onAdded={(user) => {
          setNotice(`${user.email} was added as ${user.role === 'admin' ? 'an admin' : 'a member'}.`)
          users.reload()
        }}
      />
    </>
  )
}

interface Form {
  email: string
  name: string
  password: string
  role: 'member' | 'admin'
}

const empty: Form = { email: '', name: '', password: '', role: 'member' }

/** Adds a user; the password is sent once and the field cleared, whatever the answer. */
function AddUserForm({ onAdded }: { onAdded(user: TenantUser): void }) {
  const [form, setForm] = useState<Form>(empty)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }))

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const body = { email: form.email.trim(), password: form.password, role: form.role, ...(form.name.trim() ? { name: form.name.trim() } : {}) }
      const user = await api.post<TenantUser>('/api/users', body)
      setForm(empty)
      onAdded(user)
    } catch (failure) {
      setError(failure)
      setForm((f) => ({ ...f, password: '' }))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="card form" onSubmit={submit} noValidate aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <ErrorBanner error={error} />
      <div class="grid-2">
        <TextField label="Email" name="user-email" type="email" required value={form.email} onValue={set('email')} autoComplete="off" spellcheck={false} />
        <TextField label="Name" name="user-name" value={form.name} onValue={set('name')} autoComplete="off" />
        <TextField label="Password" name="user-password" type="password" required value={form.password} onValue={set('password')} hint="At least 8 characters; tell it to the user yourself." autoComplete="new-password" />
        <SelectField
          label="Role"
          name="user-role"
          value={form.role}
          onValue={set('role')}
          options={[
            { value: 'member', label: 'Member' },
            { value: 'admin', label: 'Admin (manages users, exports data)' },
          ]}
        />
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add user'}
        </button>
      </div>
    </form>
  )
}
