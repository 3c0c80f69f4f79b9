import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { runCli } from '../../src/cli/cli-runner.js'
import { commands } from '../../src/cli/commands/index.js'
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
  /** Runs tenantctl with ...args, its own config dir and only the given environment; never a TTY. */
  run(args: string[], env?: Record<string, string>): Promise<Run>
}

/**
 * Runs tenantctl in this process: its entry point (`runCli` with the commands, as
 * src/cli/main.ts calls it) with exactly `env`, `stdin` as its input and its output
 * captured, no TTY. The same code as `node bin/tenantctl.js`, without a Node.js start per
 * command (the suite runs a few hundred; test/cli-e2e/tenantctl.test.ts drives the real
 * binary with `spawn: true`).
 */
export async function runTenantctlInProcess(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const capture = (chunks: string[]) =>
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk))
        done()
      },
    })
  const stdout: string[] = []
  const stderr: string[] = []
  const code = await runCli(args, commands, { env, stdin: Readable.from(stdin ? [stdin] : []), stdout: capture(stdout), stderr: capture(stderr) })
  return { code, stdout: stdout.join(''), stderr: stderr.join('') }
}

/**
 * The harness's app listening on a real port (a random one unless the test already listens), and
 * a way to run tenantctl against it: in this process, or the real binary with `spawn: true`.
 */
export async function tenantctlAgainst(h: Harness, t: { teardown(fn: () => unknown): void }, options: { spawn?: boolean } = {}): Promise<TenantctlRunner> {
  if (!h.app.server.listening) await h.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
  const configDir = await mkdtemp(path.join(tmpdir(), 'tenantctl-e2e-'))
  t.teardown(() => rm(configDir, { recursive: true, force: true }))
  return {
    url,
    configDir,
    run: (args, env = {}) => {
      const fullEnv = { ...minimalEnv(), TENANTD_URL: url, TENANTCTL_CONFIG_DIR: configDir, NO_COLOR: '1', ...env }
      if (!options.spawn) return runTenantctlInProcess(args, fullEnv)
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          ['bin/tenantctl.js', ...args],
          { env: fullEnv, timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) })
        )
      })
    },
  }
}

/** A run, for an assertion message. */
export const showRun = (run: Run) => `exit ${run.code}\nstdout: ${run.stdout.slice(0, 1500)}\nstderr: ${run.stderr.slice(0, 1500)}`
