import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { SessionUser } from './api-types.js'
import { CliError } from './cli-error.js'

/** What `tenantctl login` keeps between runs. Tokens are only sent back to `url`. */
export interface StoredCredentials {
  url: string
  accessToken: string
  refreshToken: string
  email: string
  user?: SessionUser
}

/**
 * The credentials file `credentials.json` in `$TENANTCTL_CONFIG_DIR` (default
 * `~/.config/tenantd`): directory 0700, file 0600, replaced atomically.
 *
 * @example
 *   const store = CredentialsStore.fromEnv(process.env)
 *   const creds = await store.load()
 */
export class CredentialsStore {
  readonly file: string

  constructor(readonly dir: string) {
    this.file = join(dir, 'credentials.json')
  }

  /** The store of `TENANTCTL_CONFIG_DIR`, else `~/.config/tenantd`. */
  static fromEnv(env: NodeJS.ProcessEnv): CredentialsStore {
    return new CredentialsStore(env.TENANTCTL_CONFIG_DIR || join(homedir(), '.config', 'tenantd'))
  }

  /** The stored credentials, or undefined when nobody logged in. */
  async load(): Promise<StoredCredentials | undefined> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      return JSON.parse(text) as StoredCredentials
    } catch (error) {
      throw new CliError(`${this.file} is not valid JSON`, { hint: 'run `tenantctl login` again', cause: error })
    }
  }

  /** Writes the credentials; a reader never sees a half-written or world-readable file. */
  async save(credentials: StoredCredentials): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    // Write a fresh 0600 file and rename it over the old one: `mode` only applies on
    // creation, and rename keeps the file mode of the new file.
    const temp = `${this.file}.${process.pid}.tmp`
    await rm(temp, { force: true })
    await writeFile(temp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
    await rename(temp, this.file)
  }

  /** Forgets the credentials (no error when there are none). */
  async clear(): Promise<void> {
    await rm(this.file, { force: true })
  }
}
