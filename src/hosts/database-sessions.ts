import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { SqlState, sqlState } from '../errors.js'

/** How long a drop or rename waits for the sessions it ended to be gone. */
const defaultTimeoutMs = 10_000

/**
 * Ends the sessions on `database` that this connection's role may end: those of roles it has
 * the privileges of (or every role, with pg_signal_backend), never a superuser's unless it is
 * one, never its own. Autovacuum workers have no role and are left alone: PostgreSQL stops them
 * itself for a rename or a drop. A bare `pg_terminate_backend` over every session (or `DROP
 * DATABASE ... WITH (FORCE)`) fails as a whole on a host admin that is not a superuser the
 * moment autovacuum works in the database, which it does after any large copy or restore.
 */
export async function endSessions(client: pg.ClientBase, database: string): Promise<void> {
  await client.query(
    `select pg_terminate_backend(a.pid)
       from pg_stat_activity a join pg_roles r on r.oid = a.usesysid
      where a.datname = $1 and a.pid <> pg_backend_pid()
        and (not r.rolsuper or (select rolsuper from pg_roles where rolname = current_user))
        and (pg_has_role(r.oid, 'USAGE') or pg_has_role('pg_signal_backend', 'USAGE'))`,
    [database]
  )
}

/**
 * Runs `attempt` (statements that need `database` free of other sessions: a rename, a drop)
 * after ending its sessions, again while PostgreSQL answers 55006 (object in use), for up to
 * `timeoutMs`. When sessions it may not end keep the database in use, the error names them
 * and says how to end them.
 */
export async function withSessionsEnded<T>(client: pg.ClientBase, database: string, attempt: () => Promise<T>, timeoutMs = defaultTimeoutMs): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await endSessions(client, database)
    try {
      return await attempt()
    } catch (error) {
      if (sqlState(error) !== SqlState.objectInUse) throw error
      if (Date.now() > deadline) throw new Error(await sessionsInTheWay(client, database), { cause: error })
      await sleep(50)
    }
  }
}

/** Drops `database` if it exists, ending its sessions first (what `WITH (FORCE)` means, within the role's rights). */
export async function dropDatabase(client: pg.ClientBase, database: string, timeoutMs = defaultTimeoutMs): Promise<void> {
  await withSessionsEnded(client, database, () => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(database)}`), timeoutMs)
}

async function sessionsInTheWay(client: pg.ClientBase, database: string): Promise<string> {
  const { rows } = await client.query<{ pid: number; who: string | null; application: string | null }>(
    `select a.pid, r.rolname as who, nullif(a.application_name, '') as application
       from pg_stat_activity a left join pg_roles r on r.oid = a.usesysid
      where a.datname = $1 and a.pid <> pg_backend_pid() order by a.pid`,
    [database]
  )
  const list = rows.map((s) => `pid ${s.pid} (${s.who ? `role ${s.who}` : 'a server process'}${s.application ? `, ${s.application}` : ''})`).join(', ')
  return (
    `the database ${database} is still in use by sessions tenantd's host role may not end: ${list || 'none left now'}; ` +
    `end them as a superuser (select pg_terminate_backend(pid) from pg_stat_activity where datname = ${escapeLiteral(database)}) and retry`
  )
}
