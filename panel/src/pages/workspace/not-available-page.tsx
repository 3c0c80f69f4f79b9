import { EmptyState } from '../../components/feedback.js'
import { PageHeader } from '../../components/layout.js'
import { useTitle } from '../../hooks/use-api.js'
import { Link, basePath } from '../../router/router.js'

/**
 * An operator page (tenants, hosts, operations…) typed on a tenant's own address: those live
 * on the control host only, for operators, and nothing of them is requested here.
 */
export function NotAvailablePage({ tenantName }: { tenantName: string }) {
  useTitle('Not available here')
  return (
    <>
      <PageHeader title="Not available here" />
      <EmptyState title={`This page is part of the operators' control panel, not of ${tenantName}'s workspace.`}>
        <p>On this address you manage {tenantName} only. Operators use the control panel on tenantd's own address.</p>
        <Link href={`${basePath}/workspace`}>Go to the workspace</Link>
      </EmptyState>
    </>
  )
}

/** A page for the tenant's admins, typed by a member. */
export function AdminsOnlyPage({ title }: { title: string }) {
  useTitle(title)
  return (
    <>
      <PageHeader title={title} />
      <EmptyState title="Only the workspace's admins can see this page.">
        <Link href={`${basePath}/workspace`}>Go to the workspace</Link>
      </EmptyState>
    </>
  )
}
