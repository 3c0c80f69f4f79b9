import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CaddyApplyMode } from './caddy-client.js'

/** The template shipped with tenantd (repository root). */
export const defaultTemplatePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'Caddyfile.tmpl')

export interface EdgeConfig {
  /** How the file reaches Caddy; off writes (and validates) it only. */
  apply: CaddyApplyMode
  /** blocks: a site block per tenant address; on-demand: one block, certificates on demand. */
  mode: 'blocks' | 'on-demand'
  file: string
  template: string
  caddyBin: string
  caddyAdmin: string
  baseDomain: string
  /** The API and panel's own host name behind Caddy. */
  controlHost: string
  /** Where Caddy sends traffic: every tenantd replica's host:port (the first also answers Caddy's ask). */
  upstreams: string[]
  /** false: plain HTTP sites and `auto_https off` (loopback, tests). */
  tls: boolean
  /** Port of the sites; undefined means Caddy's defaults (80/443). */
  httpPort: number | undefined
}

