import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { serverBundle } from './server-bundle.js'

export interface ServerProcess {
  child: ChildProcess
  url: string
  port: number
  /** Everything the process wrote so far. */
  stdout(): string
  stderr(): string
  /** Sends a signal and resolves with the exit code (or signal) once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

interface TapLike {
  teardown(fn: () => unknown): void
}

export interface StartServerOptions {
  /** The whole environment of the child (nothing of this process's env is inherited except PATH/HOME). */
  env: Record<string, string>
  /** How long to wait for /api/health (ms). */
  timeoutMs?: number
  /** Inherit this process's environment under env (default true). */
  inheritEnv?: boolean
  /** The checkout to run src/server.ts from (default: this one). */
  cwd?: string
}

/** The environment a child needs to run node at all, without this process's tenantd settings. */
export function minimalEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG']
  const env: Record<string, string> = {}
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key]!
  return env
}

/**
 * This test process's environment for a child tenantd, without what tap adds for its own
 * processes: NODE_OPTIONS (tap's @tapjs/processinfo import, whose loader hooks about double a
 * child's start-up CPU) and tap's variables. NODE_V8_COVERAGE stays, so `npm run coverage`
 * still counts the children.
 */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key.startsWith('_TAPJS_') || key === 'TAP' || key.startsWith('TAP_')) continue
    env[key] = value
  }
  return env
}

/** The command line of a tenantd process: this checkout's server bundle, or `npm start`'s own command in another checkout. */
function serverArgs(cwd: string | undefined): string[] {
  return cwd ? ['--import', 'tsx', 'src/server.ts'] : [serverBundle()]
}

/**
 * Starts a real tenantd process (src/server.ts, see serverBundle) and waits until
 * /api/health answers. Stopped with SIGTERM on teardown if still running.
 */
export async function startServerProcess(t: TapLike, options: StartServerOptions): Promise<ServerProcess> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort()
  const base = options.inheritEnv === false ? minimalEnv() : inheritedEnv()
  const child = spawn(process.execPath, serverArgs(options.cwd), {
    env: { ...base, TENANTD_BACKUP_SCHEDULE: 'off', ...options.env, PORT: String(port) } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    const [code, sig] = child.exitCode !== null || child.signalCode !== null ? [child.exitCode, child.signalCode] : await exited
    return { code, signal: sig }
  }
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tenantd exited (${child.exitCode ?? child.signalCode}): ${stderr}${stdout.slice(-2000)}`)
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false)
    if (ok) return { child, url, port, stdout: () => stdout, stderr: () => stderr, stop }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`tenantd did not start within ${options.timeoutMs ?? 30_000} ms: ${stderr}${stdout.slice(-2000)}`)
}

/** Runs tenantd (src/server.ts) expecting it to exit on its own; resolves with its output. */
export async function runServerToExit(env: Record<string, string>, timeoutMs = 20_000, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, serverArgs(cwd), { env: { ...minimalEnv(), TENANTD_BACKUP_SCHEDULE: 'off', ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}
