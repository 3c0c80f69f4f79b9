import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Harness } from './harness.js'
import { minimalEnv } from './server-process.js'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export interface TenantctlRunner {
  url: string
  configDir: string
  /** Runs `node bin/tenantctl.js ...args` with its own config dir; never a TTY. */
  run(args: string[], env?: Record<string, string>): Promise<Run>
}

/** The harness's app listening on a real port (a random one unless the test already listens), and a way to run the real tenantctl against it. */
export async function tenantctlAgainst(h: Harness, t: { teardown(fn: () => unknown): void }): Promise<TenantctlRunner> {
  if (!h.app.server.listening) await h.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
  const configDir = await mkdtemp(path.join(tmpdir(), 'tenantctl-e2e-'))
  t.teardown(() => rm(configDir, { recursive: true, force: true }))
  return {
    url,
    configDir,
    run: (args, env = {}) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['bin/tenantctl.js', ...args],
          { env: { ...minimalEnv(), TENANTD_URL: url, TENANTCTL_CONFIG_DIR: configDir, NO_COLOR: '1', ...env }, timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) })
        )
      }),
  }
}

/** A run, for an assertion message. */
export const showRun = (run: Run) => `exit ${run.code}\nstdout: ${run.stdout.slice(0, 1500)}\nstderr: ${run.stderr.slice(0, 1500)}`
