import type { ComponentChildren } from 'preact'

/** A polite "loading" line for screen readers and eyes alike. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </p>
  )
}

/** What an empty list says, and what to do about it. */
export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  )
}

/** A short success note that screen readers announce. */
export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="banner banner-ok" role="status">
      <div class="banner-body">{children}</div>
    </div>
  )
}
