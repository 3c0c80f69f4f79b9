import { readFileSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cliEnv, credentialsFixture, runTenantctl, startStub, tenantFixture } from './cli-harness.js'

const password = 'correct horse battery staple'
const loginReply = {
  body: {
    accessToken: 'access-1',
    refreshToken: 'refresh-1',
    expiresIn: 900,
    user: { id: 'u-1', email: 'root@tenantd.test', name: 'Root', role: 'super_admin', tenantId: null },
  },
}

t.test('login stores the session in a 0600 file and never shows the password', async (t) => {
  const stub = await startStub(t, { 'POST /api/auth/login': loginReply })
  const { env, configDir } = cliEnv(t, stub)
  const args = ['login', '--email', 'root@tenantd.test', '--password-stdin']

  const result = await runTenantctl(args, { env, stdin: password + '\n' })

  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /✓ Logged in to .* as root@tenantd\.test \(super_admin\)/)
  t.same(stub.calls('POST /api/auth/login')[0]?.body, { email: 'root@tenantd.test', password })
  t.notOk(args.join(' ').includes(password), 'the password is not in argv')
  t.notOk(result.stdout.includes(password) || result.stderr.includes(password), 'nor in the output')
  const file = join(configDir, 'credentials.json')
  t.equal(statSync(file).mode & 0o777, 0o600)
  const stored = JSON.parse(readFileSync(file, 'utf8'))
  t.match(stored, { url: stub.url, accessToken: 'access-1', refreshToken: 'refresh-1', email: 'root@tenantd.test' })
  t.notOk(JSON.stringify(stored).includes(password), 'nor in the credentials file')
})

t.test('login creates the config dir 0700 and takes TENANTD_PASSWORD; --json omits the tokens', async (t) => {
  const stub = await startStub(t, { 'POST /api/auth/login': loginReply })
  const { env, configDir } = cliEnv(t, stub)
  const nested = join(configDir, 'nested', 'tenantd')

  const result = await runTenantctl(['login', '--email', 'root@tenantd.test', '--json'], {
    env: { ...env, TENANTCTL_CONFIG_DIR: nested, TENANTD_PASSWORD: password },
  })

  t.equal(result.code, 0, result.stderr)
  t.equal(statSync(nested).mode & 0o777, 0o700)
  t.same(stub.calls('POST /api/auth/login')[0]?.body, { email: 'root@tenantd.test', password })
  t.match(JSON.parse(result.stdout), { url: stub.url, user: { role: 'super_admin' } })
  t.notMatch(result.stdout, /access-1|refresh-1/)
})

t.test('login without a password source and without a terminal fails instead of hanging', async (t) => {
  const stub = await startStub(t, {})
  const { env } = cliEnv(t, stub)

  const result = await runTenantctl(['login', '--email', 'root@tenantd.test'], { env })

  t.equal(result.code, 2)
  t.match(result.stderr, /error: .*not a terminal\nhint: .*--password-stdin.*TENANTD_PASSWORD/)
  t.equal(stub.requests.length, 0)
})

t.test('a 401 refreshes the session once, stores the new pair and retries', async (t) => {
  const stub = await startStub(t, {
    'GET /api/admin/tenants': (req) =>
      req.headers.authorization === 'Bearer access-2'
        ? { body: { items: [tenantFixture()], total: 1, limit: 50, offset: 0 } }
        : { status: 401, body: { error: 'Unauthorized', message: 'Access token expired.' } },
    'POST /api/auth/refresh': { body: { accessToken: 'access-2', refreshToken: 'refresh-2', expiresIn: 900 } },
  })
  const { env, configDir } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const file = join(configDir, 'credentials.json')

  const result = await runTenantctl(['list'], { env })

  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /acme/)
  t.same(
    stub.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? ''}`.trim()),
    ['GET /api/admin/tenants Bearer access-1', 'POST /api/auth/refresh', 'GET /api/admin/tenants Bearer access-2'],
  )
  t.same(stub.calls('POST /api/auth/refresh')[0]?.body, { refreshToken: 'refresh-1' })
  t.match(JSON.parse(readFileSync(file, 'utf8')), { accessToken: 'access-2', refreshToken: 'refresh-2' })
  t.equal(statSync(file).mode & 0o777, 0o600)
})

t.test('a refused refresh reports the 401 with a login hint, without looping', async (t) => {
  const stub = await startStub(t, {
    'GET /api/admin/tenants': { status: 401, body: { error: 'Unauthorized', message: 'Access token expired.' } },
    'POST /api/auth/refresh': {
      status: 401,
      body: { error: 'RefreshTokenReused', message: 'This refresh token was already used.' },
    },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['list'], { env })

  t.equal(result.code, 1)
  t.equal(result.stderr, 'error: Access token expired. (Unauthorized)\nhint: run `tenantctl login`\n')
  t.equal(stub.requests.length, 2)
})

t.test('TENANTD_TOKEN overrides the stored token and is never refreshed', async (t) => {
  const stub = await startStub(t, {
    'GET /api/admin/tenants/acme': { status: 401, body: { error: 'Unauthorized', message: 'Bad token.' } },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url), env: { TENANTD_TOKEN: 'env-token' } })

  const result = await runTenantctl(['show', 'acme'], { env })

  t.equal(result.code, 1)
  t.same(stub.requests.map((r) => r.headers.authorization), ['Bearer env-token'])
})

t.test('a stored token is not sent to another server', async (t) => {
  const stub = await startStub(t, { 'GET /api/admin/tenants/acme': { body: tenantFixture() } })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture('http://tenantd.elsewhere.test:5000') })

  const result = await runTenantctl(['show', 'acme'], { env })

  t.equal(result.code, 0, result.stderr)
  t.equal(stub.requests[0]?.headers.authorization, undefined)
})

t.test('logout revokes the refresh token and deletes the credentials file', async (t) => {
  const stub = await startStub(t, { 'POST /api/auth/logout': { status: 204 } })
  const { env, configDir } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['logout'], { env })

  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /✓ Logged out/)
  t.same(stub.calls('POST /api/auth/logout')[0]?.body, { refreshToken: 'refresh-1' })
  t.notOk(existsSync(join(configDir, 'credentials.json')))
})

t.test('whoami shows the stored operator; without a session it says to log in', async (t) => {
  const stub = await startStub(t, {})
  const loggedIn = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const who = await runTenantctl(['whoami'], { env: loggedIn.env })
  t.equal(who.code, 0, who.stderr)
  t.match(who.stdout, /Email:\s+root@tenantd\.test/)
  t.match(who.stdout, /Role:\s+super_admin/)

  const anonymous = await runTenantctl(['whoami'], { env: { ...loggedIn.env, TENANTCTL_CONFIG_DIR: t.testdir({}) } })
  t.equal(anonymous.code, 1)
  t.match(anonymous.stderr, /error: not logged in.*\nhint: run `tenantctl login/)
})
