import { useState } from 'preact/hooks'
import { api } from '../../api/api-client.js'
import type { Tenant } from '../../api/api-types.js'
import { saveFile } from '../../save-file.js'

/**
 * "Export Data" (runbook 002): the tenant as one JSON document (GET /api/tenants/export),
 * fetched with the session's token and saved as a file. Super-admins and the tenant's admins.
 * A failure goes to `onError` (shown by the section), undefined when a new try starts.
 */
export function TenantExportButton({ tenant, onError }: { tenant: Pick<Tenant, 'id' | 'slug'>; onError(error: unknown): void }) {
  const [busy, setBusy] = useState(false)
  const exportData = async () => {
    setBusy(true)
    onError(undefined)
    try {
      const { blob, filename } = await api.download('/api/tenants/export', { tenantId: tenant.id }, `${tenant.slug}-export.json`)
      saveFile(blob, filename)
    } catch (failure) {
      onError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <button type="button" class="button button-small" onClick={exportData} disabled={busy}>
      {busy ? 'Exporting…' : 'Export data'}
    </button>
  )
}
