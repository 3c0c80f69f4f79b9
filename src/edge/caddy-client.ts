import { readFile } from 'node:fs/promises'
import { execa } from 'execa'

/** How the rendered Caddyfile reaches Caddy. */
export type CaddyApplyMode = 'off' | 'reload' | 'admin-api'

export interface CaddyClientOptions {
  /** The caddy program (a path, or a name looked up on PATH). */
  bin: string
  /** Caddy's admin endpoint, host:port. */
  admin: string
}

/** What `caddy validate` or an apply said, reduced to the lines a person needs. */
export class CaddyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CaddyError'
  }
}

/**
 * The real Caddy, driven through its CLI (execa) and its admin API: validate a file, and apply
 * one with `caddy reload` or `POST /load`. Nothing here keeps state.
 *
 * @example
 *   const caddy = new CaddyClient({ bin: 'caddy', admin: 'localhost:2019' })
 *   await caddy.validate('/var/lib/tenantd/Caddyfile.tmp-1')
 *   await caddy.apply('reload', '/var/lib/tenantd/Caddyfile')
 */
export class CaddyClient {
  #found: Promise<string | undefined> | undefined

  constructor(readonly options: CaddyClientOptions) {}

  /** Caddy's version line, or undefined when the program is not there (then nothing is validated or applied). */
  version(): Promise<string | undefined> {
    this.#found ??= execa(this.options.bin, ['version'], { stdin: 'ignore', timeout: 10_000 }).then(
      (result) => result.stdout.trim().split('\n')[0],
      () => undefined
    )
    return this.#found
  }

  /** `caddy validate`: adapts and provisions the config without running it; throws CaddyError with Caddy's reason. */
  async validate(file: string): Promise<void> {
    try {
      await execa(this.options.bin, ['validate', '--config', file, '--adapter', 'caddyfile'], { stdin: 'ignore', timeout: 60_000, env: { HOME: process.env.HOME ?? '/tmp' } })
    } catch (error) {
      throw new CaddyError(`caddy validate refused the rendered Caddyfile: ${caddyReason(error)}`, { cause: error })
    }
  }

  /** Makes Caddy run this file now. */
  async apply(mode: Exclude<CaddyApplyMode, 'off'>, file: string): Promise<void> {
    if (mode === 'reload') {
      try {
        await execa(this.options.bin, ['reload', '--config', file, '--adapter', 'caddyfile', '--address', this.options.admin], { stdin: 'ignore', timeout: 60_000 })
      } catch (error) {
        throw new CaddyError(`caddy reload through ${this.options.admin} failed: ${caddyReason(error)}`, { cause: error })
      }
      return
    }
    const body = await readFile(file, 'utf8')
    let res: Response
    try {
      res = await fetch(`http://${this.options.admin}/load`, {
        method: 'POST',
        headers: { 'content-type': 'text/caddyfile' },
        body,
        signal: AbortSignal.timeout(60_000),
      })
    } catch (error) {
      throw new CaddyError(`Caddy's admin API at ${this.options.admin} is not reachable (${(error as Error).message}); is Caddy running with "admin ${this.options.admin}"?`, { cause: error })
    }
    if (!res.ok) throw new CaddyError(`Caddy's admin API refused the config (${res.status}): ${(await res.text()).trim().slice(0, 400)}`)
  }
}

/** The useful part of a failed caddy command: its last error line, without timestamps and JSON noise. */
function caddyReason(error: unknown): string {
  const output = `${(error as { stderr?: string }).stderr ?? ''}\n${(error as { stdout?: string }).stdout ?? ''}`
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean)
  const errorLine = [...lines].reverse().find((line) => /^Error:|error/i.test(line))
  if (errorLine) return errorLine.replace(/^Error:\s*/, '').slice(0, 500)
  if ((error as { code?: string }).code === 'ENOENT') return 'the caddy program was not found'
  return ((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 300)
}
