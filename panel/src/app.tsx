import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'
import { tenantPath } from './api/api-client.js'
import type { Branding, CurrentTenant, SessionUser } from './api/api-types.js'
import { session } from './api/session.js'
import { Loading } from './components/feedback.js'
import { Layout, type NavItem } from './components/layout.js'
import { useSession } from './hooks/use-session.js'
import { useSite } from './hooks/use-site.js'
import { useApi } from './hooks/use-api.js'
import { useBrandingVersion, useGuardedImage } from './hooks/use-branding.js'
import { AuditPage } from './pages/audit-page.js'
import { EdgePage } from './pages/edge-page.js'
import { HostsPage } from './pages/hosts-page.js'
import { LoginPage } from './pages/login-page.js'
import { MigrationsPage } from './pages/migrations-page.js'
import { NotFoundPage } from './pages/not-found-page.js'
import { OperationsPage } from './pages/operations-page.js'
import { OperatorsPage } from './pages/operators-page.js'
import { ProvisionPage } from './pages/provision-page.js'
import { TenantPage } from './pages/tenant-page.js'
import { TenantsPage } from './pages/tenants-page.js'
import { AdminsOnlyPage, NotAvailablePage } from './pages/workspace/not-available-page.js'
import { SiteUnavailablePage } from './pages/workspace/site-unavailable-page.js'
import { UsersPage } from './pages/workspace/users-page.js'
import { WorkspacePage } from './pages/workspace/workspace-page.js'
import { basePath, matchRoute, navigate, safeNext, useLocation } from './router/router.js'

const loginPath = `${basePath}/login`

/**
 * The panel: learns where it is served (api/site.ts: the control host, or a tenant's own
 * address), resumes the tab's session, sends the signed-out to sign-in (remembering the page
 * in `?next=`) and the signed-in back to it, and picks the page for the URL. On a tenant's
 * address the same session code signs in that tenant's users (the server decides by the
 * Host), and only the workspace pages exist: no operator page is rendered or requested there.
 */
export function App() {
  const state = useSession()
  const { site, retry } = useSite()
  const { path, query, url } = useLocation()
  useEffect(() => void session.resume(), [])

  if (state.status === 'starting' || site === undefined) {
    return (
      <main id="main" class="main">
        <Loading what="the panel" />
      </main>
    )
  }
  if (site.kind === 'unavailable') return <SiteUnavailablePage error={site.error} onRetry={retry} />
  const tenant = site.kind === 'tenant' ? site.tenant : undefined
  if (state.status === 'signedOut') {
    if (path !== loginPath) return <Redirect to={`${loginPath}?next=${encodeURIComponent(url)}`} />
    return <LoginPage expired={state.expired} tenant={tenant} />
  }
  if (path === loginPath) return <Redirect to={safeNext(query.get('next'))} />

  const signOut = () => {
    void session.signOut()
    navigate(loginPath)
  }
  if (tenant) {
    return (
      <TenantSiteLayout user={state.user} path={path} onSignOut={signOut} known={tenant}>
        {workspacePageFor(path, state.user, tenant)}
      </TenantSiteLayout>
    )
  }
  if (state.user.role !== 'super_admin' && state.user.tenantId) {
    return (
      <TenantAdminLayout user={state.user} tenantId={state.user.tenantId} path={path} onSignOut={signOut}>
        {pageFor(path, state.user)}
      </TenantAdminLayout>
    )
  }
  return (
    <Layout user={state.user} path={path} onSignOut={signOut}>
      {pageFor(path, state.user)}
    </Layout>
  )
}

interface FrameProps {
  user: SessionUser
  path: string
  onSignOut(): void
  children: ComponentChildren
}

/** On a tenant's address: the header carries the tenant's name and logo (public), fetched again after a branding change. */
function TenantSiteLayout({ known, ...frame }: FrameProps & { known: CurrentTenant }) {
  const version = useBrandingVersion()
  const current = useApi<CurrentTenant>('/api/tenants/current')
  useEffect(() => {
    if (version > 0) current.reload()
  }, [version])
  const tenant = current.data ?? known
  return <Layout {...frame} brand={tenant.name} logoUrl={tenant.logoUrl ?? undefined} nav={workspaceNav(frame.user)} />
}

/** A tenant admin operator on the control host: the header carries their tenant's name and logo. */
function TenantAdminLayout({ tenantId, ...frame }: FrameProps & { tenantId: string }) {
  const version = useBrandingVersion()
  const branding = useApi<Branding>(tenantPath(tenantId, '/branding'))
  useEffect(() => {
    if (version > 0) branding.reload()
  }, [version])
  const logoUrl = useGuardedImage(branding.data?.logo ? tenantPath(tenantId, '/logo') : null, version)
  return <Layout {...frame} brand={branding.data?.name ?? 'tenantd'} logoUrl={logoUrl} />
}

const workspacePath = `${basePath}/workspace`
const usersPath = `${basePath}/users`

/** The pages of the control panel: on a tenant's address they are "not available here". */
const operatorPaths = ['tenants', 'hosts', 'operators', 'operations', 'migrations', 'edge', 'audit'].map((name) => `${basePath}/${name}`)

/** A tenant user's navigation: the workspace, and its users for the tenant's admins (GET /api/users needs one). */
function workspaceNav(user: SessionUser): NavItem[] {
  const items = [{ href: workspacePath, label: 'Workspace' }]
  if (user.role === 'admin') items.push({ href: usersPath, label: 'Users' })
  return items
}

/** The page for `path` on a tenant's own address: tenant-side routes only. */
function workspacePageFor(path: string, user: SessionUser, tenant: CurrentTenant) {
  if (path === basePath) return <Redirect to={workspacePath} />
  if (path === workspacePath) return <WorkspacePage user={user} known={tenant} />
  if (path === usersPath) return user.role === 'admin' ? <UsersPage tenantName={tenant.name} /> : <AdminsOnlyPage title="Users" />
  if (operatorPaths.some((p) => path === p || path.startsWith(`${p}/`))) return <NotAvailablePage tenantName={tenant.name} />
  return <NotFoundPage />
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
  if (path === `${basePath}/operators`) return superAdmin ? <OperatorsPage /> : <NotFoundPage />
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
