import { createHash } from 'node:crypto'
import { realpath } from 'node:fs/promises'
import net from 'node:net'
import { StartupError } from '../startup/startup-error.js'

/** Who holds a data directory: what a refused second start names. */
export interface DataDirOwner {
  pid: number
  /** Where the holder serves its API, once it listens. */
  url: string | null
  startedAt: string
}

/** The lock on one data directory, held for the life of the process. */
export interface DataDirLock {
  /** Records where this process serves, for the message a refused second start prints. */
  serving(url: string): void
  release(): Promise<void>
}

/**
 * One data directory, one owner. The lock is a Linux abstract-namespace socket named after
 * the directory's real path: the kernel lets one process bind it and frees it the instant that
 * process ends, even by SIGKILL, so there is no stale lock file to clean up and no window where
 * two starts both think they won. A refused start connects to the socket and learns the
 * holder's pid and address. (Other platforms have no abstract sockets: there the lock is off.)
 *
 * @example
 *   const lock = await lockDataDir('/srv/tenantd/.tenantd')   // throws StartupError if in use
 *   lock.serving('http://127.0.0.1:5000')
 *   await lock.release()
 */
export async function lockDataDir(realDataDir: string): Promise<DataDirLock> {
  if (process.platform !== 'linux') return { serving() {}, async release() {} }
  const name = `\0tenantd-data-dir-${createHash('sha256').update(realDataDir).digest('hex').slice(0, 40)}`
  const owner: DataDirOwner = { pid: process.pid, url: null, startedAt: new Date().toISOString() }
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.end(JSON.stringify(owner))
  })
  server.unref()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(name, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    const holder = await askOwner(name)
    const who = holder ? `tenantd (pid ${holder.pid}${holder.url ? `, serving ${holder.url}` : ', still starting'})` : 'another tenantd process'
    throw new StartupError(
      `the data directory ${realDataDir} is in use by ${who}; stop that one first, or give this one its own TENANTD_DATA_DIR (several replicas share a catalog through DATABASE_URL instead)`
    )
  }
  return {
    serving(url) {
      owner.url = url
    },
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function askOwner(name: string): Promise<DataDirOwner | undefined> {
  return new Promise((resolve) => {
    let text = ''
    const socket = net.connect(name)
    const done = (value: DataDirOwner | undefined) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(5_000, () => done(undefined))
    socket.on('data', (chunk) => (text += chunk))
    socket.on('end', () => {
      try {
        done(JSON.parse(text) as DataDirOwner)
      } catch {
        done(undefined)
      }
    })
    socket.on('error', () => done(undefined))
  })
}

/** Throws the "in use" StartupError when another process holds the data dir; takes no lock. */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const real = await realpath(dataDir).catch(() => undefined)
  if (!real) return
  const lock = await lockDataDir(real)
  await lock.release()
}
