import { useEffect } from 'preact/hooks'
import type { AuditEntry, Page, Tenant } from '../../api/api-types.js'
import { AuditTable } from '../../components/audit-table.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading } from '../../components/feedback.js'
import { useApi } from '../../hooks/use-api.js'

/** The tenant's audit trail (GET /api/audit-logs?tenantId=), fetched again whenever `version` moves. */
export function TenantAudit({ tenant, version }: { tenant: Tenant; version: number }) {
  const list = useApi<Page<AuditEntry>>('/api/audit-logs', { tenantId: tenant.id, limit: 50 })
  useEffect(() => {
    if (version > 0) list.reload()
  }, [version])

  return (
    <section class="card" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit trail</h2>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="the audit trail" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="Nothing recorded for this tenant yet." />}
      {list.data && list.data.items.length > 0 && <AuditTable items={list.data.items} label="Audit trail" />}
    </section>
  )
}
