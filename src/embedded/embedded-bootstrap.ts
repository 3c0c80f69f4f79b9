import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import pg from 'pg'
import { escapeIdentifier, escapeLiteral } from 'pg'
import type { Logger } from '../logger.js'
import { SecretSealer } from '../secrets/secret-sealer.js'
import { StartupError } from '../startup/startup-error.js'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import { freePort, portInUse, startEmbeddedCluster, type EmbeddedCluster } from './embedded-cluster.js'
import { firstLine, postgresRuntime, TENANTD_VAR_LIB } from './postgres-runtime.js'

/** The private state of embedded mode, kept in the data dir with mode 0600. */
interface EmbeddedState {
  port: number
  superuserPassword: string
  /** Password of the `tenantd` role: owner of the catalog, CREATEDB + CREATEROLE, not superuser. */
  controlPassword: string
  jwtSecret: string
  /**
   * Where the cluster lives when the postgres system user cannot reach `<dataDir>/pg` (tenantd
   * run as root from a 0700 directory): a directory of its own under /var/lib/tenantd/clusters.
   */
  clusterDir?: string
}

export interface EmbeddedDefaults {
  cluster: EmbeddedCluster
  /** This process's hold on the data directory; released after the cluster stops. */
  lock: DataDirLock
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
 * A second start reuses all of it; a start while another process holds the data dir is
 * refused (StartupError naming that process), before anything in the directory is touched.
 */
export async function startEmbeddedDefaults(dataDir: string, log: Logger, masterKeyOverride?: string): Promise<EmbeddedDefaults> {
  await writable(dataDir, () => mkdir(dataDir, { recursive: true, mode: 0o700 }))
  const lock = await lockDataDir(await realpath(dataDir))
  try {
    return await startWithLock(dataDir, log, lock, masterKeyOverride)
  } catch (error) {
    await lock.release()
    throw error
  }
}

async function startWithLock(dataDir: string, log: Logger, lock: DataDirLock, masterKeyOverride: string | undefined): Promise<EmbeddedDefaults> {
  const masterKey = masterKeyOverride ?? (await writable(dataDir, () => readOrCreate(path.join(dataDir, 'master.key'), () => SecretSealer.generateKeyring('k1'))))
  const statePath = path.join(dataDir, 'embedded.json')
  let state: EmbeddedState
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as EmbeddedState
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(`cannot read ${statePath} (${firstLine(error)}); restore it from a backup, or move the data directory away to start afresh`, { cause: error })
    }
    state = {
      port: await freePort(),
      superuserPassword: randomBytes(24).toString('base64url'),
      controlPassword: randomBytes(24).toString('base64url'),
      jwtSecret: randomBytes(48).toString('base64url'),
    }
    await writable(dataDir, () => writeSecretFile(statePath, JSON.stringify(state, null, 2)))
  }
  const clusterDir = await clusterDirectory(dataDir, state, () => writeSecretFile(statePath, JSON.stringify(state, null, 2)), log)
  // We hold the data dir: a PostgreSQL still running on it was left by a tenantd that died,
  // and startEmbeddedCluster adopts it. Only a port taken by something else needs a new one.
  if (!existsSync(path.join(clusterDir, 'postmaster.pid')) && (await portInUse(state.port))) {
    const previous = state.port
    state.port = await freePort()
    await writeSecretFile(statePath, JSON.stringify(state, null, 2))
    log.warn({ previous, port: state.port }, 'embedded PostgreSQL port was taken by another program; using another')
  }
  const pgLog = log.child({ component: 'embedded-postgres' })
  const cluster = await startEmbeddedCluster({
    dataDir: clusterDir,
    port: state.port,
    superuserPassword: state.superuserPassword,
    onLog: (line) => pgLog.debug(line.trim()),
  })
  try {
    await ensureControlRole(cluster, state.controlPassword)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  log.info({ port: cluster.port, dataDir, clusterDir }, 'embedded PostgreSQL running')
  return {
    cluster,
    lock,
    catalogUrl: `postgres://${CONTROL_ROLE}:${encodeURIComponent(state.controlPassword)}@127.0.0.1:${cluster.port}/tenantd`,
    masterKey,
    jwtSecret: state.jwtSecret,
    host: { name: 'embedded', host: '127.0.0.1', port: cluster.port, adminUser: CONTROL_ROLE, adminPassword: state.controlPassword },
  }
}

/**
 * Where the cluster's files go. Normally `<dataDir>/pg`. As root the server runs as the
 * postgres system user; when that user cannot enter the data dir (it sits in root's 0700 home,
 * or under a `mktemp -d` directory) the cluster gets a directory of its own under
 * /var/lib/tenantd/clusters, recorded in embedded.json and linked from `<dataDir>/pg`.
 */
async function clusterDirectory(dataDir: string, state: EmbeddedState, save: () => Promise<void>, log: Logger): Promise<string> {
  const inside = path.join(dataDir, 'pg')
  const { runAs } = await postgresRuntime()
  if (!runAs) return inside
  if (state.clusterDir) return state.clusterDir
  // The postgres user must be able to enter the data dir (not read it: the secrets stay 0600).
  await chmod(dataDir, 0o711)
  const reachable = await execa('test', ['-x', dataDir], { ...runAs, stdin: 'ignore' }).then(
    () => true,
    () => false
  )
  if (reachable) return inside
  if (existsSync(path.join(inside, 'PG_VERSION'))) {
    throw new StartupError(
      `the embedded PostgreSQL in ${inside} runs as the "postgres" user, which cannot enter ${dataDir} any more; make its parent directories enterable (chmod o+x) or move the data directory`
    )
  }
  const clusters = path.join(TENANTD_VAR_LIB, 'clusters')
  const dir = path.join(clusters, randomUUID())
  try {
    await mkdir(clusters, { recursive: true, mode: 0o711 })
    await mkdir(dir, { mode: 0o700 })
    await chown(dir, runAs.uid, runAs.gid)
  } catch (error) {
    throw new StartupError(
      `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dataDir}, and ${clusters} could not be created (${firstLine(error)}); put the data dir where that user can reach it (TENANTD_DATA_DIR) or run tenantd as an ordinary user`,
      { cause: error }
    )
  }
  state.clusterDir = dir
  await save()
  await symlink(dir, inside).catch(() => {})
  log.info({ clusterDir: dir, dataDir }, 'the postgres user cannot enter the data dir: the embedded cluster lives in its own directory')
  return dir
}

/** Runs a write into the data dir, turning permission problems into one line that says what to do. */
async function writable<T>(dataDir: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
      throw new StartupError(
        `cannot write to the data directory ${dataDir} (${code}); make it writable for this user, or set TENANTD_DATA_DIR to a directory you own`,
        { cause: error }
      )
    }
    throw error
  }
}

/** The control plane's own role: CREATEDB and CREATEROLE, not superuser (DESIGN.md decision 3). */
async function ensureControlRole(cluster: EmbeddedCluster, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: cluster.superuser, password: cluster.superuserPassword, database: 'postgres' })
  await client.connect()
  try {
    const role = escapeIdentifier(CONTROL_ROLE)
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [CONTROL_ROLE])
    // REPLICATION: moves capture changes by logical decoding on this host (docs/decisions.md "Moves").
    const options = `LOGIN CREATEDB CREATEROLE REPLICATION NOSUPERUSER PASSWORD ${escapeLiteral(password)}`
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
