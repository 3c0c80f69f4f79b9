import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { serverBundle } from './server-bundle.js'
import { inheritedEnv } from './server-process.js'
import { waitFor } from './wait-for.js'

export interface CrashReplica {
  child: ChildProcess
  url: string
  /** Its PostgreSQL connections carry this application_name (PGAPPNAME): a test finds, waits on or ends exactly them. */
  appName: string
}

/**
 * Real tenantd processes (src/server.ts, see serverBundle) over a harness's catalog, as extra replicas a crash
 * test can SIGKILL between two steps. Every one still running is SIGKILLed on teardown.
 *
 * @example
 *   const startReplica = replicaStarter(t, h.env, 'crash-replica')
 *   const { child, url, appName } = await startReplica()
 */
export function replicaStarter(t: { teardown(fn: () => unknown): void }, env: Record<string, string>, prefix: string): (appName?: string) => Promise<CrashReplica> {
  const replicas: ChildProcess[] = []
  t.teardown(() => {
    for (const child of replicas) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return async (appName = `${prefix}-${replicas.length}`) => {
    const port = await freePort()
    const child = spawn(process.execPath, [serverBundle()], {
      env: { ...inheritedEnv(), ...env, PORT: String(port), LOG_LEVEL: 'warn', PGAPPNAME: appName },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    replicas.push(child)
    let stderr = ''
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    const url = `http://127.0.0.1:${port}`
    await waitFor('the replica to answer /api/health', async () => {
      if (child.exitCode !== null) throw new Error(`replica exited: ${stderr}`)
      return (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) || undefined
    })
    return { child, url, appName }
  }
}

/**
 * SIGKILLs a replica and ends every backend it left on `db`'s server. PostgreSQL does not notice
 * a dead client while its backend waits on a lock (a step gate, a rename behind a held
 * session): the waiting statement, and whatever its transaction wrote, roll back only once the
 * backend is ended. Resolves when none is left, so from then on nothing of the replica writes.
 */
export async function killReplica(replica: Pick<CrashReplica, 'child' | 'appName'>, db: { query(text: string, values: unknown[]): Promise<{ rowCount: number | null }> }): Promise<void> {
  const exited = once(replica.child, 'exit')
  replica.child.kill('SIGKILL')
  await exited
  await waitFor(`the killed replica's backends to end`, async () => {
    const left = await db.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [replica.appName])
    return left.rowCount === 0 ? true : undefined
  })
}
