import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'

/** Every panel URL lives under this path; the server answers index.html for all of them. */
export const basePath = '/panel'

const listeners = new Set<() => void>()
const notify = () => listeners.forEach((listener) => listener())
window.addEventListener('popstate', notify)

/**
 * Goes to a panel URL with the History API (no reload).
 *
 * @example
 *   navigate('/panel/tenants/acme')
 *   navigate('/panel/tenants?q=acme', { replace: true })
 */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentUrl()) return
  if (options.replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  notify()
}

/** The current path and query, re-rendering the caller when they change. */
export function useLocation(): { path: string; query: URLSearchParams; url: string } {
  const [, setVersion] = useState(0)
  useEffect(() => {
    const listener = () => setVersion((v) => v + 1)
    listeners.add(listener)
    return () => void listeners.delete(listener)
  }, [])
  return { path: window.location.pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(window.location.search), url: currentUrl() }
}

/** The path and query of the page, e.g. "/panel/tenants?q=acme" (what a sign-in returns to). */
export function currentUrl(): string {
  return window.location.pathname + window.location.search
}

/**
 * The parameters of `path` when it matches `pattern` (":name" segments), else undefined.
 *
 * @example
 *   matchRoute('/panel/tenants/:id', '/panel/tenants/acme')   // { id: 'acme' }
 */
export function matchRoute(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/')
  const have = path.split('/')
  if (want.length !== have.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!
    const value = have[i]!
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(value)
    else if (segment !== value) return undefined
  }
  return params
}

/** A same-origin URL under the panel, safe to return to after sign-in; else the panel's home. */
export function safeNext(next: string | null): string {
  if (next && next.startsWith(`${basePath}/`) && !next.startsWith('//') && !next.includes('\\')) return next
  return basePath
}

interface LinkProps {
  href: string
  class?: string
  'aria-current'?: 'page'
  children: ComponentChildren
}

/** An anchor that navigates in place (a modified click still opens a new tab). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(href)
  }
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  )
}
