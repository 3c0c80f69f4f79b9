import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import type { Logger } from '../logger.js'
import { SecretSealer } from '../secrets/secret-sealer.js'
import { freePort, portInUse, startEmbeddedCluster, type EmbeddedCluster } from './embedded-cluster.js'

/** The private state of embedded mode, kept in the data dir with mode 0600. */
interface EmbeddedState {
  port: number
  superuserPassword: string
  /** Password of the `tenantd` role: owner of the catalog, CREATEDB + CREATEROLE, not superuser. */
  controlPassword: string
  jwtSecret: string
}

export interface EmbeddedDefaults {
  cluster: EmbeddedCluster
  catalogUrl: string
  masterKey: string
  jwtSecret: string
  /** The default db host: this cluster, reached as the `tenantd` role. */
  host: { name: string; host: string; port: number; adminUser: string; adminPassword: string }
}

const CONTROL_ROLE = 'tenantd'

/**
 * Embedded mode (no DATABASE_URL): a private PostgreSQL under `<dataDir>/pg`, the master key
 * file `<dataDir>/master.key` and the other generated secrets in `<dataDir>/embedded.json`
 * (both 0600). The cluster hosts the catalog (database `tenantd`) and is the default db host.
 * A second start reuses all of it.
 */
export async function startEmbeddedDefaults(dataDir: string, log: Logger, masterKeyOverride?: string): Promise<EmbeddedDefaults> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  // The postgres system user must be able to reach its data directory below this one.
  await chmod(dataDir, 0o711)
  const masterKey = masterKeyOverride ?? (await readOrCreate(path.join(dataDir, 'master.key'), () => SecretSealer.generateKeyring('k1')))
  const statePath = path.join(dataDir, 'embedded.json')
  let state: EmbeddedState
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as EmbeddedState
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    state = {
      port: await freePort(),
      superuserPassword: randomBytes(24).toString('base64url'),
      controlPassword: randomBytes(24).toString('base64url'),
      jwtSecret: randomBytes(48).toString('base64url'),
    }
    await writeSecretFile(statePath, JSON.stringify(state, null, 2))
  }
  if (await portInUse(state.port)) {
    const previous = state.port
    state.port = await freePort()
    await writeSecretFile(statePath, JSON.stringify(state, null, 2))
    log.warn({ previous, port: state.port }, 'embedded PostgreSQL port was taken; using another')
  }
  const pgLog = log.child({ component: 'embedded-postgres' })
  const cluster = await startEmbeddedCluster({
    dataDir: path.join(dataDir, 'pg'),
    port: state.port,
    superuserPassword: state.superuserPassword,
    onLog: (line) => pgLog.debug(line.trim()),
  })
  await ensureControlRole(cluster, state.controlPassword)
  log.info({ port: cluster.port, dataDir }, 'embedded PostgreSQL running')
  return {
    cluster,
    catalogUrl: `postgres://${CONTROL_ROLE}:${encodeURIComponent(state.controlPassword)}@127.0.0.1:${cluster.port}/tenantd`,
    masterKey,
    jwtSecret: state.jwtSecret,
    host: { name: 'embedded', host: '127.0.0.1', port: cluster.port, adminUser: CONTROL_ROLE, adminPassword: state.controlPassword },
  }
}

/** The control plane's own role: CREATEDB and CREATEROLE, not superuser (DESIGN.md decision 3). */
async function ensureControlRole(cluster: EmbeddedCluster, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: cluster.superuser, password: cluster.superuserPassword, database: 'postgres' })
  await client.connect()
  try {
    const role = escapeIdentifier(CONTROL_ROLE)
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [CONTROL_ROLE])
    const options = `LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD ${escapeLiteral(password)}`
    await client.query(exists.rowCount ? `ALTER ROLE ${role} ${options}` : `CREATE ROLE ${role} ${options}`)
    const db = await client.query('select 1 from pg_database where datname = $1', [CONTROL_ROLE])
    if (!db.rowCount) await client.query(`CREATE DATABASE ${role} OWNER ${role}`)
  } finally {
    await client.end()
  }
}

async function readOrCreate(file: string, create: () => string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    const value = create()
    await writeSecretFile(file, `${value}\n`)
    return value
  }
}

async function writeSecretFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 })
  await chmod(file, 0o600)
}
