import { readFile } from 'node:fs/promises'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { startServerProcess } from '../helpers/server-process.js'
import { waitFor } from '../helpers/wait-for.js'

// Exporting a big tenant costs the server a bounded amount of memory: rows are read through
// a cursor and written as fast as the client reads, never gathered. A real tenantd process
// exports a tenant of ROWS rows over HTTP while its resident memory (VmRSS) is sampled.

const ROWS = 1_000_000
/** Resident memory the export may add to the serving process. */
const MAX_GROWTH_MB = 100

t.setTimeout(240_000)

const h = await startHarness(t)
const big = await h.provision({ name: 'Big', slug: 'big', adminEmail: 'admin@big.test', adminPassword: 'big-admin-pass' })
// ~270 bytes of JSON per row: the document is a few hundred MB.
await h.cluster.query(
  `insert into settings (key, value, updated_at)
     select 'key-' || lpad(i::text, 7, '0'), to_jsonb(repeat('x', 200) || i), timestamptz '2025-01-01' + i * interval '1 second'
       from generate_series(1, ${ROWS}) i`,
  [],
  big.database
)
const server = await startServerProcess(t, { env: { ...h.env, LOG_LEVEL: 'warn' } })
const token = await fetch(`${server.url}/api/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: h.superAdmin.email, password: h.superAdmin.password }),
}).then(async (r) => ((await r.json()) as { accessToken: string }).accessToken)

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024
}

/** Reads an export to its end without keeping it: byte count and the last bytes only. */
async function download(tenant: string): Promise<{ bytes: number; tail: string }> {
  const res = await fetch(`${server.url}/api/tenants/export?tenantId=${tenant}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`)
  let bytes = 0
  let tail = Buffer.alloc(0)
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    tail = Buffer.concat([tail, chunk]).subarray(-4096)
  }
  return { bytes, tail: tail.toString('utf8') }
}

t.test(`exporting ${ROWS} rows keeps the server's memory bounded`, async (t) => {
  // Warm up: the export code paths are loaded and compiled before the baseline is taken.
  await h.provision({ name: 'Small', slug: 'small' })
  await download('small')
  const pid = server.child.pid!
  const baseline = await rssMb(pid)
  let peak = baseline
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssMb(pid))
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  const started = Date.now()
  const { bytes, tail } = await download('big').finally(() => (sampling = false))
  await sampler
  const seconds = (Date.now() - started) / 1000
  t.comment(`${(bytes / 1048576).toFixed(0)} MiB in ${seconds.toFixed(1)} s; server RSS ${baseline.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at most`)
  t.ok(bytes > 200 * 1048576, `the export is hundreds of MB (${(bytes / 1048576).toFixed(0)} MiB)`)
  const trailer = JSON.parse(tail.slice(tail.lastIndexOf(',"trailer":') + ',"trailer":'.length).trimEnd().slice(0, -1)) as { rows: Record<string, number> }
  t.equal(trailer.rows['public.settings'], ROWS, 'the document is complete: its trailer counts every row')
  t.ok(peak - baseline < MAX_GROWTH_MB, `server RSS grew by ${(peak - baseline).toFixed(0)} MiB (< ${MAX_GROWTH_MB} MiB) while exporting ${(bytes / 1048576).toFixed(0)} MiB`)
})

t.test('a client that goes away mid-export frees the server\'s database session', async (t) => {
  const sessions = async () =>
    Number((await h.cluster.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [big.database])).rows[0]!.n)
  const abort = new AbortController()
  const res = await fetch(`${server.url}/api/tenants/export?tenantId=big`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal })
  let received = 0
  const reader = res.body!.getReader()
  while (received < 4 * 1048576) received += (await reader.read()).value?.length ?? 0
  t.equal(await sessions(), 1, 'the export holds one session while it runs')
  abort.abort()
  await waitFor('the export session to end', async () => ((await sessions()) === 0 ? true : undefined), 30_000)
  t.pass('the session ended without the export being read to its end')
  const after = await download('small')
  t.match(after.tail, /"trailer":/, 'the server goes on exporting')
})
