import { setTimeout as sleep } from 'node:timers/promises'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Harness } from '../helpers/harness.js'

/** A tenant user's view of the API: requests on the tenant's own host with its token. */
export interface TenantClient {
  host: string
  token: string
  request(method: InjectOptions['method'], url: string, payload?: unknown): Promise<LightMyRequestResponse>
}

/** Logs in as a tenant user on `<slug>.localhost` and returns a client bound to that host. */
export async function tenantClient(h: Harness, slug: string, email: string, password: string): Promise<TenantClient> {
  const host = `${slug}.localhost`
  const { accessToken } = await h.login(email, password, { host })
  return {
    host,
    token: accessToken,
    request: (method, url, payload) =>
      h.app.inject({ method, url, headers: { host, authorization: `Bearer ${accessToken}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) }),
  }
}

/** Installs a module for a tenant through the admin API and waits for the operation. */
export async function installModule(h: Harness, tenant: string, module: string): Promise<LightMyRequestResponse> {
  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${tenant}/modules/${module}?wait=true` })
  if (res.statusCode !== 200) throw new Error(`install of ${module} on ${tenant} failed: ${res.statusCode} ${res.body}`)
  return res
}

/**
 * Repeats `request` until `done` accepts the reply (or ~3 s pass), returning the last reply.
 * Module changes reach the tenant cache through a catalog NOTIFY, a moment after the
 * operation commits.
 */
export async function eventually(request: () => Promise<LightMyRequestResponse>, done: (res: LightMyRequestResponse) => boolean): Promise<LightMyRequestResponse> {
  let res = await request()
  for (let i = 0; i < 60 && !done(res); i++) {
    await sleep(50)
    res = await request()
  }
  return res
}
