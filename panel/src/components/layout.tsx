import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import type { SessionUser } from '../api/api-types.js'
import { Link, basePath } from '../router/router.js'

export interface NavItem {
  href: string
  label: string
}

/** The fleet pages, for super-admins; a tenant admin only has their tenant. */
function navItems(user: SessionUser): NavItem[] {
  if (user.role !== 'super_admin') {
    return user.tenantId ? [{ href: `${basePath}/tenants/${user.tenantId}`, label: 'My tenant' }] : []
  }
  return [
    { href: `${basePath}/tenants`, label: 'Tenants' },
    { href: `${basePath}/hosts`, label: 'Hosts' },
    { href: `${basePath}/operators`, label: 'Operators' },
    { href: `${basePath}/operations`, label: 'Operations' },
    { href: `${basePath}/migrations`, label: 'Migrations' },
    { href: `${basePath}/edge`, label: 'Edge' },
    { href: `${basePath}/audit`, label: 'Audit' },
  ]
}

interface LayoutProps {
  user: SessionUser
  path: string
  onSignOut(): void
  children: ComponentChildren
  /** What the header is named after: "tenantd" on the control host, the tenant's name for its own admins and users. */
  brand?: string
  /** The tenant's logo (an URL an <img> can load) in place of tenantd's mark. */
  logoUrl?: string
  /** The navigation; by default the operator's (from the role). */
  nav?: NavItem[]
}

/**
 * The signed-in frame: a skip link, the header (product, navigation, who is signed in,
 * sign out) and the main landmark, which takes focus after each navigation so screen
 * readers start at the new page.
 */
export function Layout({ user, path, onSignOut, children, brand = 'tenantd', logoUrl, nav }: LayoutProps) {
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.focus()
  }, [path])

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href={basePath} class="brand">
            {logoUrl ? <img class="brand-logo" src={logoUrl} alt="" /> : <span class="brand-mark" aria-hidden="true" />}
            {brand}
          </Link>
          <nav aria-label="Main" class="nav">
            <ul>
              {(nav ?? navItems(user)).map((item) => {
                const current = path === item.href || path.startsWith(`${item.href}/`)
                return (
                  <li key={item.href}>
                    <Link href={item.href} class="nav-link" aria-current={current ? 'page' : undefined}>
                      {item.label}
                    </Link>
                  </li>
                )
              })}
            </ul>
          </nav>
          <div class="user">
            <span class="user-name" title={user.email}>
              {user.email}
            </span>
            <span class="user-role">{user.role.replace('_', ' ')}</span>
            <button type="button" class="button button-small" onClick={onSignOut}>
              Log out
            </button>
          </div>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} class="main">
        {children}
      </main>
    </div>
  )
}

/** A page's heading row: title, optional subtitle and actions on the right. */
export function PageHeader({ title, subtitle, children }: { title: ComponentChildren; subtitle?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p class="page-subtitle">{subtitle}</p>}
      </div>
      {children && <div class="page-actions">{children}</div>}
    </div>
  )
}
