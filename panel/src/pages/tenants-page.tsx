import { useEffect, useState } from 'preact/hooks'
import type { Page, TenantListItem } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { EmptyState, Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { Pagination } from '../components/pagination.js'
import { SortHeader, type Sort } from '../components/sort-header.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatBytes, formatDate } from '../format.js'
import { useApi, useTitle } from '../hooks/use-api.js'
import { useDebounced } from '../hooks/use-debounced.js'
import { Link, basePath, navigate, useLocation } from '../router/router.js'

type Column = 'name' | 'status' | 'plan' | 'host' | 'size' | 'lastBackup' | 'created'

const pageSize = 20
const columns: Column[] = ['name', 'status', 'plan', 'host', 'size', 'lastBackup', 'created']
/** Newest first where the column is a time, A to Z otherwise (the list route's defaults too). */
const defaultDir = (column: Column) => (column === 'created' || column === 'lastBackup' || column === 'size' ? 'desc' : 'asc')

/**
 * Every tenant: search (name, slug, subdomain, contact email), sortable columns and pages, all
 * done by the list route; its modules and its last backup. Search, sort and page live in the
 * URL, so a view can be linked to.
 */
export function TenantsPage() {
  useTitle('Tenants')
  const { query } = useLocation()
  const q = query.get('q') ?? ''
  const sortKey = query.get('sort') ?? ''
  const key: Column = (columns as string[]).includes(sortKey) ? (sortKey as Column) : 'created'
  const dirParam = query.get('dir')
  const sort: Sort<Column> = { key, dir: dirParam === 'asc' || dirParam === 'desc' ? dirParam : defaultDir(key) }
  const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1)

  const [search, setSearch] = useState(q)
  const settled = useDebounced(search.trim(), 250)
  const setView = (changes: Record<string, string | number | undefined>) => {
    const next = new URLSearchParams(query)
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined || value === '' || (key === 'page' && value === 1)) next.delete(key)
      else next.set(key, String(value))
    }
    const text = next.toString()
    navigate(`${basePath}/tenants${text ? `?${text}` : ''}`, { replace: true })
  }
  useEffect(() => {
    if (settled !== q) setView({ q: settled, page: 1 })
  }, [settled])

  const list = useApi<Page<TenantListItem>>('/api/admin/tenants', { search: q || undefined, sort: sort.key, order: sort.dir, limit: pageSize, offset: (page - 1) * pageSize })
  const items = list.data?.items ?? []
  const onSort = (next: Sort<Column>) => setView({ sort: next.key, dir: next.dir, page: 1 })

  return (
    <>
      <PageHeader title="Tenants" subtitle="Each tenant has its own PostgreSQL database and login role.">
        <Link href={`${basePath}/tenants/new`} class="button button-primary">
          New tenant
        </Link>
      </PageHeader>
      <div class="toolbar">
        <div class="field field-inline">
          <label for="tenant-search">Search</label>
          <input id="tenant-search" type="search" placeholder="Name, slug or subdomain" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
        </div>
        {list.data && (
          <p class="muted toolbar-count" aria-live="polite">
            {list.data.total === 1 ? '1 tenant' : `${list.data.total ?? items.length} tenants`}
          </p>
        )}
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="tenants" />}
      {list.data && items.length === 0 && (
        <EmptyState title={q ? `No tenant matches "${q}".` : 'No tenants yet.'}>
          {q ? 'Try another name, slug or subdomain.' : <Link href={`${basePath}/tenants/new`}>Provision the first tenant</Link>}
        </EmptyState>
      )}
      {items.length > 0 && (
        <>
          <div class="table-wrap" role="region" aria-label="Tenants" tabIndex={0}>
            <table class="table">
              <thead>
                <tr>
                  <SortHeader column="name" sort={sort} onSort={onSort}>
                    Name
                  </SortHeader>
                  <SortHeader column="status" sort={sort} onSort={onSort}>
                    Status
                  </SortHeader>
                  <SortHeader column="plan" sort={sort} onSort={onSort}>
                    Plan
                  </SortHeader>
                  <SortHeader column="host" sort={sort} onSort={onSort}>
                    Host
                  </SortHeader>
                  <th scope="col">Modules</th>
                  <SortHeader column="size" sort={sort} onSort={onSort}>
                    Size
                  </SortHeader>
                  <SortHeader column="lastBackup" sort={sort} onSort={onSort}>
                    Last backup
                  </SortHeader>
                  <SortHeader column="created" sort={sort} onSort={onSort}>
                    Created
                  </SortHeader>
                </tr>
              </thead>
              <tbody>
                {items.map((tenant) => (
                  <tr key={tenant.id}>
                    <td class="nowrap">
                      <Link href={`${basePath}/tenants/${encodeURIComponent(tenant.slug)}`} class="strong">
                        {tenant.name}
                      </Link>
                      <div class="muted mono small">{tenant.slug}</div>
                    </td>
                    <td>
                      <StatusBadge status={tenant.status} />
                    </td>
                    <td>{tenant.plan}</td>
                    <td class="nowrap">{tenant.hostName ?? '—'}</td>
                    <td class="small">{tenant.modules.length ? tenant.modules.join(', ') : <span class="muted">none</span>}</td>
                    <td class="nowrap num">{tenant.sizeBytes === null ? <span class="muted">—</span> : formatBytes(tenant.sizeBytes)}</td>
                    <td class="nowrap">
                      {tenant.lastBackup ? (
                        <>
                          {formatDate(tenant.lastBackup.at)} <StatusBadge status={tenant.lastBackup.state} />
                        </>
                      ) : (
                        <span class="muted">never</span>
                      )}
                    </td>
                    <td class="nowrap">{formatDate(tenant.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={page} pageSize={pageSize} total={list.data?.total ?? items.length} onPage={(p) => setView({ page: p })} />
        </>
      )}
    </>
  )
}
