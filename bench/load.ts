import net from 'node:net'
import { performance } from 'node:perf_hooks'

/**
 * Closed-loop HTTP/1.1 load generator, run as a child process of resolver-bench.ts (forked
 * with IPC) so that it has its own event loop and does not share one with the server.
 *
 * It keeps `concurrency` keep-alive TCP connections to the server, each with exactly one
 * request in flight (no pipelining); every request goes to the next Host header in the list
 * (round robin over the tenants). Requests are written as pre-built byte strings and
 * responses parsed by hand (status line + Content-Length), because on a 2-core machine
 * every microsecond the client spends is taken from the server; node:http would cost the
 * client several times more CPU per request.
 *
 * Message in:  { type: 'run', port, path, hosts, concurrency, durationMs }
 * Message out: { type: 'result', requests, errors, statuses, elapsedMs, latenciesUs: number[], cpuUs }
 */

export interface RunMessage {
  type: 'run'
  port: number
  path: string
  hosts: string[]
  concurrency: number
  durationMs: number
}

export interface RunResult {
  type: 'result'
  requests: number
  errors: number
  /** Non-200 status codes seen, with counts (first few bodies in `sample`). */
  statuses: Record<string, number>
  sample: string[]
  elapsedMs: number
  latenciesUs: number[]
  /** CPU (user+system, µs) this load generator used during the run. */
  cpuUs: number
}

const HEADER_END = Buffer.from('\r\n\r\n')

function run(msg: RunMessage): Promise<RunResult> {
  const requests = msg.hosts.map((host) => Buffer.from(`GET ${msg.path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n\r\n`, 'latin1'))
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  const sample: string[] = []
  let errors = 0
  let nextHost = 0
  let stopping = false
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + msg.durationMs

  return new Promise((resolve) => {
    let open = msg.concurrency
    const finishOne = (): void => {
      if (--open > 0) return
      const cpu = process.cpuUsage(cpu0)
      resolve({ type: 'result', requests: latencies.length, errors, statuses, sample, elapsedMs: performance.now() - t0, latenciesUs: latencies, cpuUs: cpu.user + cpu.system })
    }
    for (let c = 0; c < msg.concurrency; c++) {
      const socket = net.connect({ port: msg.port, host: '127.0.0.1', noDelay: true })
      let chunks: Buffer[] = []
      let size = 0
      let started = 0
      let done = false
      const end = (): void => {
        if (done) return
        done = true
        socket.destroy()
        finishOne()
      }
      const send = (): void => {
        if (stopping || performance.now() >= deadline) {
          stopping = true
          end()
          return
        }
        const req = requests[nextHost++ % requests.length]!
        started = performance.now()
        socket.write(req)
      }
      socket.on('connect', send)
      socket.on('error', () => {
        errors++
        end()
      })
      socket.on('close', () => {
        if (!done && !stopping) {
          errors++
          sample.push('server closed a connection mid-run')
        }
        end()
      })
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
        const headerEnd = buf.indexOf(HEADER_END)
        if (headerEnd < 0) return
        const head = buf.toString('latin1', 0, headerEnd)
        const match = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        if (!match) {
          errors++
          sample.push(`response without Content-Length: ${head.slice(0, 200)}`)
          end()
          return
        }
        const total = headerEnd + 4 + Number(match[1])
        if (buf.length < total) {
          chunks = [buf]
          return
        }
        latencies.push(Math.round((performance.now() - started) * 1000))
        const status = head.slice(9, 12)
        if (status !== '200') {
          errors++
          statuses[status] = (statuses[status] ?? 0) + 1
          if (sample.length < 5) sample.push(`${status} ${buf.toString('utf8', headerEnd + 4, total).slice(0, 300)}`)
        }
        chunks = []
        size = 0
        if (buf.length > total) {
          errors++
          sample.push('unexpected bytes after a response')
        }
        send()
      })
    }
  })
}

process.on('message', (msg: RunMessage) => {
  if (msg?.type !== 'run') return
  run(msg).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ type: 'error', message: String(error) })
  )
})
// The parent going away ends this process.
process.on('disconnect', () => process.exit(0))
