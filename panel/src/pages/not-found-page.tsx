import { EmptyState } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { useTitle } from '../hooks/use-api.js'
import { Link, basePath } from '../router/router.js'

/** A panel URL that names no page. */
export function NotFoundPage() {
  useTitle('Not found')
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState title="There is no panel page at this address.">
        <Link href={basePath}>Go to the start page</Link>
      </EmptyState>
    </>
  )
}
