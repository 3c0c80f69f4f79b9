import { sql } from 'kysely'
import pg, { escapeIdentifier, escapeLiteral } from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import { CredentialDrainTimeout, SqlState, sqlState } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import { generateRolePassword } from '../provisioning/provision-tenant.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { loginRoleOf, rotationLoginRoles, tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'

export const ROTATE_CREDENTIALS = 'rotate_credentials'

/** What a rotation operation carries: why it runs (no secret; the new password is sealed in the catalog). */
export interface RotateCredentialsParams {
  reason?: 'manual' | 'scheduled'
}

export interface CredentialRotationDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  sealer: SecretSealer
  audit: AuditLog
  /** Most time the old login role's sessions get to end after the switch. */
  drainTimeoutMs: number
  /**
   * Least time between the switch and taking the old login away, even with no session of it
   * left: a replica that has not yet processed the switch's notification holds a pool that
   * would open its next connection with the old password. Notifications arrive in
   * milliseconds; this is the margin.
   */
  settleMs?: number
  /** Poll interval of the drain. */
  pollMs?: number
}

/**
 * Rotates a tenant's database credential without failing a request on any replica.
 *
 * PostgreSQL keeps one password per role, so changing it in place would fail the new
 * connections of every replica still holding the old one. Instead a tenant has two login
 * roles that take turns (`<role>_a`, `<role>_b`, see rotationLoginRoles), both members of
 * the owner role with `SET role` to it, so every session runs as the owner and objects keep
 * one owner. Steps, each idempotent and resumable:
 *
 * prepareCredential (new password sealed in the catalog as pending) → createLoginRole (the
 * idle login role gets it and LOGIN; checked by logging in) → switchCredential (the catalog
 * names the new role and password; its NOTIFY makes every replica evict the tenant's pool,
 * which drains lease-safely while new pools use the new credential) → drainOldSessions
 * (until no session of any other login role of the tenant remains and settleMs passed;
 * CredentialDrainTimeout after drainTimeoutMs) → disableOldLogin (NOLOGIN PASSWORD NULL; a
 * session that slipped in after the drain gets up to 10 s to end, then is terminated) →
 * recordRotation (audit `tenant.credentials_rotated`).
 *
 * The drain cannot see a connection that is still logging in (pg_stat_activity lists a
 * backend only once it is authenticated), so on a loaded machine a replica's old pool can be
 * refused by NOLOGIN mid-handshake. The pool cache covers that: a connection refused while
 * opening, when the tenant's settings changed, is opened with the current ones instead
 * (TenantPoolCache #checkoutCurrent), so the request does not fail.
 *
 * A tenant never rotated logs in as its owner role; its first rotation moves it to `_a`
 * and takes the owner's login away.
 *
 * @example
 *   operations.register(rotateCredentialsHandler({ catalog, hosts, tenants, sealer, audit, drainTimeoutMs: 120_000 }))
 *   const op = await operations.enqueue(ROTATE_CREDENTIALS, tenant.id, { reason: 'manual' }, operatorId)
 */
export function rotateCredentialsHandler(deps: CredentialRotationDeps): OperationHandler<RotateCredentialsParams> {
  const settleMs = deps.settleMs ?? 1_000
  const pollMs = deps.pollMs ?? 200
  const tenantOf = async (context: StepContext<RotateCredentialsParams>): Promise<TenantRecord> => {
    const id = context.operation.tenant_id
    if (!id) throw new Error('credential rotation has no tenant')
    return deps.tenants.get(id)
  }
  /** Every login-capable role of the tenant except the one now in use. */
  const retiredLogins = (tenant: TenantRecord): string[] => {
    const current = loginRoleOf(tenant)
    return [tenant.role_name, ...rotationLoginRoles(tenant.role_name)].filter((role) => role !== current)
  }
  const sessionsOf = async (tenant: TenantRecord, roles: string[]): Promise<number> => {
    const { rows } = await deps.hosts.withAdminClient(tenant.host_id, (client) =>
      client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where usename = any($1::text[])', [roles])
    )
    return rows[0]?.n ?? 0
  }

  return {
    kind: ROTATE_CREDENTIALS,
    steps: [
      {
        name: 'prepareCredential',
        async run(context) {
          const tenant = await tenantOf(context)
          if (tenant.pending_login_role) return
          const [a, b] = rotationLoginRoles(tenant.role_name)
          const next = loginRoleOf(tenant) === a ? b : a
          await deps.catalog
            .updateTable('tenants')
            .set({ pending_login_role: next, pending_password_sealed: deps.sealer.seal(generateRolePassword()) })
            .where('id', '=', tenant.id)
            .where('pending_login_role', 'is', null)
            .execute()
          await context.progress(10)
        },
      },
      {
        name: 'createLoginRole',
        async run(context) {
          const tenant = await tenantOf(context)
          if (!tenant.pending_login_role || !tenant.pending_password_sealed) return
          const next = tenant.pending_login_role
          const password = deps.sealer.open(tenant.pending_password_sealed)
          await deps.hosts.withAdminClient(tenant.host_id, (client) => ensureLoginRole(client, tenant, next, password))
          // Log in with it before any replica is told to: the switch must never point at a
          // credential that does not work.
          const probe = new pg.Client({ ...tenantClientConfig(tenant, deps.sealer), user: next, password })
          probe.on('error', () => {})
          try {
            await probe.connect()
            const { rows } = await probe.query<{ current_user: string }>('select current_user')
            if (rows[0]?.current_user !== tenant.role_name) throw new Error(`login role ${next} does not run as ${tenant.role_name}`)
          } finally {
            await probe.end().catch(() => {})
          }
          await context.progress(30)
        },
      },
      {
        name: 'switchCredential',
        async run(context) {
          const tenant = await tenantOf(context)
          await deps.catalog
            .updateTable('tenants')
            .set((eb) => ({
              login_role: eb.ref('pending_login_role'),
              password_sealed: sql<string>`pending_password_sealed`,
              previous_login_role: sql<string>`coalesce(login_role, role_name)`,
              pending_login_role: null,
              pending_password_sealed: null,
              credentials_rotated_at: sql<Date>`now()`,
              updated_at: new Date(),
            }))
            .where('id', '=', tenant.id)
            .where('pending_login_role', 'is not', null)
            .where('pending_password_sealed', 'is not', null)
            .execute()
          // The trigger's NOTIFY reaches every replica (this one too); this only makes it sooner here.
          deps.tenants.invalidate(tenant.id)
          context.log.info({ tenantId: tenant.id }, 'tenant credential switched; old pools draining')
          await context.progress(50)
        },
      },
      {
        name: 'drainOldSessions',
        async run(context) {
          const tenant = await tenantOf(context)
          const roles = retiredLogins(tenant)
          const switchedAt = tenant.credentials_rotated_at ? new Date(tenant.credentials_rotated_at).getTime() : 0
          const deadline = Date.now() + deps.drainTimeoutMs
          for (;;) {
            const open = await sessionsOf(tenant, roles)
            if (open === 0 && Date.now() - switchedAt >= settleMs) break
            if (Date.now() >= deadline) {
              throw new CredentialDrainTimeout(
                `${open} session(s) of tenant ${tenant.slug}'s previous login role still open after ${Math.round(deps.drainTimeoutMs / 1000)} s; ` +
                  'a replica may not have seen the switch, or a long backup is running. The old credential still works; retry the operation once they ended.'
              )
            }
            await new Promise((resolve) => setTimeout(resolve, pollMs))
          }
          await context.progress(80)
        },
      },
      {
        name: 'disableOldLogin',
        async run(context) {
          const tenant = await tenantOf(context)
          const roles = retiredLogins(tenant)
          await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
            const { rows } = await client.query<{ rolname: string }>('select rolname from pg_roles where rolname = any($1::text[]) and (rolcanlogin or rolpassword is not null)', [roles])
            for (const { rolname } of rows) await client.query(`ALTER ROLE ${escapeIdentifier(rolname)} NOLOGIN PASSWORD NULL`)
          })
          // A session that finished logging in between the drain's last look and NOLOGIN (a
          // replica's retired pool finishing a request) ends on its own once that request is
          // done, and NOLOGIN keeps new ones out; it is given that time before it is ended.
          const deadline = Date.now() + Math.min(deps.drainTimeoutMs, 10_000)
          while ((await sessionsOf(tenant, roles)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, pollMs))
          await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
            const ended = await client
              .query<{ n: number }>('select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity where usename = any($1::text[])', [roles])
              .catch((error: unknown) => {
                if (sqlState(error) !== '42501') throw error
                context.log.warn({ tenantId: tenant.id }, 'could not terminate leftover sessions of the old login role (no permission); they end on their own')
                return { rows: [{ n: 0 }] }
              })
            if (ended.rows[0]?.n) context.log.warn({ tenantId: tenant.id, sessions: ended.rows[0].n }, 'terminated leftover sessions of the old login role')
          })
          await deps.catalog.updateTable('tenants').set({ previous_login_role: null }).where('id', '=', tenant.id).execute()
          await context.progress(95)
        },
      },
      {
        name: 'recordRotation',
        async run(context) {
          const tenant = await tenantOf(context)
          const createdBy = context.operation.created_by
          const operator = createdBy
            ? await deps.catalog.selectFrom('operators').select(['id', 'email']).where('id', '=', createdBy).executeTakeFirst()
            : undefined
          await deps.audit.record({
            actorType: operator ? 'operator' : 'system',
            actorId: operator?.id ?? null,
            actorEmail: operator?.email ?? null,
            tenantId: tenant.id,
            action: 'tenant.credentials_rotated',
            target: tenant.slug,
            details: { operationId: context.operation.id, loginRole: loginRoleOf(tenant), reason: context.params.reason ?? 'manual' },
          })
          await deps.catalog.updateTable('tenants').set({ credentials_rotation_claimed_at: null }).where('id', '=', tenant.id).execute()
        },
      },
    ],
  }
}

/**
 * Makes `loginRole` a login role of the tenant on the host `client` is connected to (as its
 * admin): LOGIN with `password`, the plan's connection limit, member of the owner role and
 * starting each session as it. Idempotent. A move to another host calls it there for the
 * tenant's current login role (when `login_role` is set) after creating the owner role.
 *
 * @example
 *   await hosts.withAdminClient(targetHostId, (client) => ensureLoginRole(client, tenant, tenant.login_role!, sealer.open(tenant.password_sealed)))
 */
export async function ensureLoginRole(
  client: pg.ClientBase,
  tenant: Pick<TenantRecord, 'role_name' | 'plan_max_connections'>,
  loginRole: string,
  password: string
): Promise<void> {
  const role = escapeIdentifier(loginRole)
  const options = `LOGIN PASSWORD ${escapeLiteral(password)} CONNECTION LIMIT ${tenant.plan_max_connections} INHERIT NOCREATEDB NOCREATEROLE`
  try {
    await client.query(`CREATE ROLE ${role} ${options} NOSUPERUSER`)
  } catch (error) {
    if (sqlState(error) !== SqlState.duplicateObject) throw error
    // The idle role of an earlier rotation (or of a crashed attempt of this one).
    await client.query(`ALTER ROLE ${role} ${options}`)
  }
  // Inherits the owner's privileges (CONNECT to the database among them) and starts every
  // session as the owner, so what it creates is owned by the owner role.
  await client.query(`GRANT ${escapeIdentifier(tenant.role_name)} TO ${role}`)
  await client.query(`ALTER ROLE ${role} SET role = ${escapeLiteral(tenant.role_name)}`)
  // The admin's membership lets a non-superuser admin end this role's sessions later.
  await client.query(`GRANT ${role} TO CURRENT_USER`).catch((error) => {
    if (sqlState(error) !== SqlState.duplicateObject) throw error
  })
}
