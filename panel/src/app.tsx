import { useEffect } from 'preact/hooks'
import type { SessionUser } from './api/api-types.js'
import { session } from './api/session.js'
import { Loading } from './components/feedback.js'
import { Layout } from './components/layout.js'
import { useSession } from './hooks/use-session.js'
import { AuditPage } from './pages/audit-page.js'
import { EdgePage } from './pages/edge-page.js'
import { HostsPage } from './pages/hosts-page.js'
import { LoginPage } from './pages/login-page.js'
import { MigrationsPage } from './pages/migrations-page.js'
import { NotFoundPage } from './pages/not-found-page.js'
import { OperationsPage } from './pages/operations-page.js'
import { ProvisionPage } from './pages/provision-page.js'
import { TenantPage } from './pages/tenant-page.js'
import { TenantsPage } from './pages/tenants-page.js'
import { basePath, matchRoute, navigate, safeNext, useLocation } from './router/router.js'

const loginPath = `${basePath}/login`

/**
 * The panel: resumes the tab's session, sends the signed-out to sign-in (remembering the page
 * in `?next=`) and the signed-in back to it, and picks the page for the URL.
 */
export function App() {
  const state = useSession()
  const { path, query, url } = useLocation()
  useEffect(() => void session.resume(), [])

  if (state.status === 'starting') {
    return (
      <main id="main" class="main">
        <Loading what="the panel" />
      </main>
    )
  }
  if (state.status === 'signedOut') {
    if (path !== loginPath) return <Redirect to={`${loginPath}?next=${encodeURIComponent(url)}`} />
    return <LoginPage expired={state.expired} />
  }
  if (path === loginPath) return <Redirect to={safeNext(query.get('next'))} />

  const signOut = () => {
    void session.signOut()
    navigate(loginPath)
  }
  return (
    <Layout user={state.user} path={path} onSignOut={signOut}>
      {pageFor(path, state.user)}
    </Layout>
  )
}

function pageFor(path: string, user: SessionUser) {
  const superAdmin = user.role === 'super_admin'
  if (path === basePath || path === `${basePath}/tenants`) {
    if (superAdmin) return <TenantsPage />
    return user.tenantId ? <Redirect to={`${basePath}/tenants/${user.tenantId}`} /> : <NotFoundPage />
  }
  if (path === `${basePath}/tenants/new`) return <ProvisionPage />
  const tenant = matchRoute(`${basePath}/tenants/:id`, path)
  if (tenant) return <TenantPage key={tenant.id} id={tenant.id!} canManage={superAdmin} />
  if (path === `${basePath}/operations`) return <OperationsPage />
  if (path === `${basePath}/hosts`) return <HostsPage />
  if (path === `${basePath}/migrations`) return <MigrationsPage />
  if (path === `${basePath}/edge`) return <EdgePage />
  if (path === `${basePath}/audit`) return <AuditPage />
  return <NotFoundPage />
}

/** Replaces the URL (no history entry), then renders the page for it. */
function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to])
  return null
}
