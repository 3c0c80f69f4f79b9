import { useState } from 'preact/hooks'
import type { AuditEntry, Page } from '../api/api-types.js'
import { AuditTable } from '../components/audit-table.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { Pagination } from '../components/pagination.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { useDebounced } from '../hooks/use-debounced.js'

const pageSize = 50

/** The whole audit log, filtered by tenant and action, paged by the route. */
export function AuditPage() {
  useTitle('Audit log')
  const [tenant, setTenant] = useState('')
  const [action, setAction] = useState('')
  const [page, setPage] = useState(1)
  const filters = { tenantId: useDebounced(tenant.trim(), 300) || undefined, action: useDebounced(action.trim(), 300) || undefined }
  const list = useApi<Page<AuditEntry>>('/api/audit-logs', { ...filters, limit: pageSize, offset: (page - 1) * pageSize })
  const filter = (set: (value: string) => void) => (event: Event) => {
    set((event.currentTarget as HTMLInputElement).value)
    setPage(1)
  }

  return (
    <>
      <PageHeader title="Audit log" subtitle="Who did what, newest first." />
      <div class="toolbar">
        <div class="field field-inline">
          <label for="audit-tenant">Tenant</label>
          <input id="audit-tenant" placeholder="Slug or id" value={tenant} onInput={filter(setTenant)} />
        </div>
        <div class="field field-inline">
          <label for="audit-action">Action</label>
          <input id="audit-action" placeholder="e.g. tenant.suspend" value={action} onInput={filter(setAction)} />
        </div>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="the audit log" />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No entries match." />}
      {list.data && list.data.items.length > 0 && <AuditTable items={list.data.items} label="Audit log" />}
      <Pagination page={page} pageSize={pageSize} total={list.data?.total ?? 0} onPage={setPage} />
    </>
  )
}
