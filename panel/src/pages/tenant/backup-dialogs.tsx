import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { Backup, CloneStarted, OperationStarted, Tenant } from '../../api/api-types.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { TextField } from '../../components/field.js'
import { formatBytes, formatDate } from '../../format.js'

interface DialogProps {
  tenant: Tenant
  onClose(): void
}

/** Restore in place (POST .../restore): typed confirmation, since writes made since the backup are replaced. */
export function RestoreDialog({ tenant, backup, onStarted, onClose }: DialogProps & { backup: Backup; onStarted(started: OperationStarted): void }) {
  return (
    <ConfirmDialog
      title={`Restore ${tenant.name}?`}
      confirmLabel="Restore"
      danger
      typed={tenant.slug}
      onConfirm={async () => onStarted(await api.post<OperationStarted>(tenantPath(tenant.slug, '/restore'), { backupId: backup.id }))}
      onClose={onClose}
    >
      <p>
        The backup of <strong>{formatDate(backup.createdAt)}</strong> ({formatBytes(backup.sizeBytes)}) is restored into a new database, its row counts are compared, then it is swapped in.
      </p>
      <p>During the swap (a second or two) the tenant answers 503 with Retry-After. Writes made since this backup are not in it; the current database is kept, so the restore can be undone.</p>
    </ConfirmDialog>
  )
}

/** Undo the last restore (POST .../restore/undo): the kept previous database is swapped back in. */
export function UndoRestoreDialog({ tenant, onStarted, onClose }: DialogProps & { onStarted(started: OperationStarted): void }) {
  return (
    <ConfirmDialog
      title={`Undo the last restore of ${tenant.name}?`}
      confirmLabel="Undo restore"
      danger
      typed={tenant.slug}
      onConfirm={async () => onStarted(await api.post<OperationStarted>(tenantPath(tenant.slug, '/restore/undo')))}
      onClose={onClose}
    >
      <p>The database the tenant used before its last restore is swapped back in, under the same short freeze (503 for a second or two). The database in use now is kept in its place, so this can be undone again.</p>
    </ConfirmDialog>
  )
}

/** A clone (POST .../restore with asNewTenant): a new tenant filled from the backup; the source is not touched. */
export function CloneDialog({ tenant, backup, onStarted, onClose }: DialogProps & { backup: Backup; onStarted(started: CloneStarted): void }) {
  const [slug, setSlug] = useState('')
  const [subdomain, setSubdomain] = useState('')
  const [name, setName] = useState('')
  return (
    <ConfirmDialog
      title={`Clone ${tenant.name} as a new tenant`}
      confirmLabel="Clone"
      onConfirm={async () => {
        const asNewTenant = { slug: slug.trim().toLowerCase(), ...(subdomain.trim() ? { subdomain: subdomain.trim().toLowerCase() } : {}), ...(name.trim() ? { name: name.trim() } : {}) }
        onStarted(await api.post<CloneStarted>(tenantPath(tenant.slug, '/restore'), { backupId: backup.id, asNewTenant }))
      }}
      onClose={onClose}
    >
      <p>
        A new tenant (its own role, password and database, on {tenant.name}'s plan) filled from the backup of {formatDate(backup.createdAt)}. {tenant.name} is not touched.
      </p>
      <TextField label="Slug" name="clone-slug" required value={slug} onValue={setSlug} hint="3–40 lowercase letters, digits and hyphens; names the database." spellcheck={false} autoCapitalize="none" autoComplete="off" />
      <TextField label="Subdomain" name="clone-subdomain" value={subdomain} onValue={setSubdomain} hint="Defaults to the slug." spellcheck={false} autoCapitalize="none" autoComplete="off" />
      <TextField label="Name" name="clone-name" value={name} onValue={setName} hint={`Defaults to "${tenant.name} (copy)".`} autoComplete="off" />
    </ConfirmDialog>
  )
}
