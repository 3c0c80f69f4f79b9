import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../../src/embedded/embedded-cluster.js'

export interface CaddyProcess {
  /** Caddy's admin endpoint, host:port. */
  admin: string
  /** Where its sites listen (plain HTTP, loopback). */
  httpPort: number
  /** GET through Caddy with the given Host. */
  get(host: string, urlPath: string): Promise<{ status: number; text: string; headers: Headers }>
  /** Stops Caddy (it may be started again with start()). */
  stop(): Promise<void>
  start(configFile?: string): Promise<void>
}

/**
 * A real Caddy (`caddy run`) on loopback with random admin and HTTP ports, its state in a temp
 * dir. Starts with a minimal config (admin endpoint only) unless given a file; stopped on teardown.
 */
export async function startCaddy(t: { teardown(fn: () => unknown): void }): Promise<CaddyProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-caddy-'))
  const admin = `127.0.0.1:${await freePort()}`
  const httpPort = await freePort()
  const minimal = path.join(dir, 'minimal.caddyfile')
  await writeFile(minimal, `{\n\tadmin ${admin}\n\tauto_https off\n}\n`)
  let child: ChildProcess | undefined
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') }
  const caddy: CaddyProcess = {
    admin,
    httpPort,
    // node:http, not fetch: fetch does not let a caller set the Host header.
    get: (host, urlPath) =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: httpPort, path: urlPath, headers: { host }, agent: false }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => (text += chunk))
          res.on('end', () => {
            const headers = new Headers()
            for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value)
            resolve({ status: res.statusCode ?? 0, text, headers })
          })
        })
        req.on('error', reject)
        req.end()
      }),
    async start(configFile = minimal) {
      let output = ''
      child = spawn('caddy', ['run', '--config', configFile, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.on('data', (c) => (output += c))
      child.stderr!.on('data', (c) => (output += c))
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`caddy exited: ${output.slice(-1500)}`)
        if (await fetch(`http://${admin}/config/`).then((r) => r.ok, () => false)) return
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`caddy did not start: ${output.slice(-1500)}`)
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
  t.teardown(async () => {
    await caddy.stop()
    await rm(dir, { recursive: true, force: true })
  })
  await caddy.start()
  return caddy
}
