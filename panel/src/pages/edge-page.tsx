import type { ComponentChildren } from 'preact'
import type { EdgeStatus } from '../api/api-types.js'
import { ErrorBanner } from '../components/error-banner.js'
import { Loading } from '../components/feedback.js'
import { PageHeader } from '../components/layout.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatDate } from '../format.js'
import { useApi, useTitle } from '../hooks/use-api.js'

/** The edge (GET /api/admin/edge): the Caddyfile tenantd renders, and whether Caddy runs it. */
export function EdgePage() {
  useTitle('Edge')
  const edge = useApi<EdgeStatus>('/api/admin/edge')
  const e = edge.data
  return (
    <>
      <PageHeader title="Edge" subtitle="Caddy's configuration, rendered from the catalog on every routing change." />
      <ErrorBanner error={edge.error} onRetry={edge.reload} />
      {!e && edge.loading && <Loading what="the edge status" />}
      {e && (
        <>
          {e.lastError && (
            <div class="banner banner-error" role="alert">
              <div class="banner-body">
                <p class="banner-message">{e.lastError}</p>
                <p class="banner-hint">Last failed {formatDate(e.lastErrorAt)}; the previous Caddyfile keeps serving.</p>
              </div>
            </div>
          )}
          <div class="grid-cards">
            <section class="card" aria-labelledby="edge-config">
              <h2 id="edge-config">Configuration</h2>
              <dl class="details-list">
                <Row label="State">
                  <StatusBadge status={e.upToDate ? 'ready' : 'pending'} /> {e.upToDate ? 'up to date' : 'catching up'}
                </Row>
                <Row label="Apply">{e.apply}</Row>
                <Row label="Mode">{e.mode}</Row>
                <Row label="File">
                  <span class="mono small">{e.file}</span>
                </Row>
                <Row label="Addresses">{e.addresses ?? '—'}</Row>
              </dl>
            </section>
            <section class="card" aria-labelledby="edge-caddy">
              <h2 id="edge-caddy">Caddy</h2>
              <dl class="details-list">
                <Row label="Found">{e.caddy.found ? (e.caddy.version ?? 'yes') : 'no'}</Row>
                <Row label="Reloads">{e.caddy.reloads}</Row>
                <Row label="Generation">
                  {e.generation.applied} applied · {e.generation.rendered} rendered · {e.generation.current} current
                </Row>
                <Row label="Last render">{formatDate(e.lastRenderAt)}</Row>
                <Row label="Last reload">{formatDate(e.lastReloadAt)}</Row>
              </dl>
            </section>
          </div>
        </>
      )}
    </>
  )
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  )
}
