import pg from 'pg'
import { waitFor } from './wait-for.js'

/**
 * The step gate: a test-only trigger on the catalog's `operations` table that makes the
 * process recording step X of a tenant's operation wait on an advisory lock the test holds.
 * The operation is then stopped exactly between two steps (the previous one done, the next
 * not recorded), never raced: the test kills or fails it there, then opens the gate.
 *
 * @example
 *   await installStepGate(catalogUrl)
 *   const gate = await closeStepGate(catalogUrl, 'acme', 'createDatabase')
 *   // ... start the operation ...
 *   await gate.waitUntilHeld(appName)   // a backend of that replica waits on the gate
 *   child.kill('SIGKILL')
 *   await gate.open()
 */
export async function installStepGate(catalogUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: catalogUrl })
  await client.connect()
  try {
    await client.query(`
      create table if not exists test_step_gate (slug text not null, step text not null);
      grant select on test_step_gate to public;
      create or replace function test_step_gate() returns trigger language plpgsql as $$
      declare
        tenant_slug text;
      begin
        if new.step is distinct from old.step and new.tenant_id is not null then
          select slug into tenant_slug from tenants where id = new.tenant_id;
          if exists (select 1 from test_step_gate g where g.slug = tenant_slug and g.step = new.step) then
            perform pg_advisory_xact_lock(hashtext('gate:' || tenant_slug));
          end if;
        end if;
        return new;
      end $$;
      drop trigger if exists test_step_gate on operations;
      create trigger test_step_gate before update on operations for each row execute function test_step_gate();
    `)
  } finally {
    await client.end()
  }
}

export interface StepGate {
  /** The connection holding the gate's lock (for the test's own catalog queries). */
  client: pg.Client
  /** Waits until a backend (of `appName`, if given) waits on exactly this gate's lock. */
  waitUntilHeld(appName?: string, also?: () => Promise<void>): Promise<void>
  /** Lets the held operation record its step, and holds it again before it records `step` (lock waits are granted in order, so it cannot get past). */
  moveTo(step: string): Promise<void>
  /** Lets the held operation record its step (idempotent). */
  open(): Promise<void>
  /** Opens the gate and closes the connection. */
  end(): Promise<void>
}

/** Holds the tenant's operation before it records `step`. */
export async function closeStepGate(catalogUrl: string, slug: string, step: string): Promise<StepGate> {
  const client = new pg.Client({ connectionString: catalogUrl })
  await client.connect()
  await client.query(`select pg_advisory_lock(hashtext('gate:' || $1))`, [slug])
  await client.query('insert into test_step_gate (slug, step) values ($1, $2)', [slug, step])
  let opened = false
  const gate: StepGate = {
    client,
    async waitUntilHeld(appName, also) {
      await waitFor(`the operation of ${slug} to wait before recording ${step}`, async () => {
        await also?.()
        // Other advisory locks (the edge's, the scheduler's) are not ours: match this gate's key.
        const waiting = await client.query(
          `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where ($2::text is null or a.application_name = $2) and l.locktype = 'advisory' and not l.granted and l.objsubid = 1
              and l.database = (select oid from pg_database where datname = current_database())
              and l.objid::bigint = (hashtext('gate:' || $1)::bigint & 4294967295)`,
          [slug, appName ?? null]
        )
        return waiting.rowCount ? true : undefined
      })
    },
    async moveTo(next) {
      await client.query('insert into test_step_gate (slug, step) values ($1, $2)', [slug, next])
      await client.query('delete from test_step_gate where slug = $1 and step = $2', [slug, step])
      step = next
      await client.query(`select pg_advisory_unlock(hashtext('gate:' || $1))`, [slug])
      await client.query(`select pg_advisory_lock(hashtext('gate:' || $1))`, [slug])
    },
    async open() {
      if (opened) return
      opened = true
      await client.query('delete from test_step_gate where slug = $1', [slug])
      await client.query(`select pg_advisory_unlock(hashtext('gate:' || $1))`, [slug])
    },
    async end() {
      await gate.open().catch(() => {})
      await client.end().catch(() => {})
    },
  }
  return gate
}
