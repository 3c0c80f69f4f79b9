import t from 'tap'
import { hashPassword } from '../../src/auth/password-hasher.js'
import { startTestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'

// One cluster for this file; the rate-limit test gets its own tenantd with a low limit.
const cluster = await startTestCluster(t)
const h = await startHarness(t, { cluster, env: { TENANTD_LOCKOUT_THRESHOLD: '3', TENANTD_LOCKOUT_WINDOW: '600' } })
const { app, superAdmin } = h

const login = (email: string, password: string) => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })
const me = (accessToken: string) => app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${accessToken}` } })
const auditActions = async (action: string) => (await h.tenantd.audit.list({ action })).items

t.test('an operator logs in and the access token identifies it', async (t) => {
  const res = await login(superAdmin.email, superAdmin.password)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body, { accessToken: String, refreshToken: String, expiresIn: h.config.accessTokenTtl, user: { email: superAdmin.email, role: 'super_admin', tenantId: null } }, 'token pair and user')
  t.match(body.refreshToken, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')

  const who = await me(body.accessToken)
  t.equal(who.statusCode, 200, who.body)
  t.match(who.json(), { kind: 'operator', email: superAdmin.email, role: 'super_admin', tenantId: null, permissions: [] })

  // The catalog holds only a hash of the refresh token.
  const stored = await h.tenantd.catalog.db.selectFrom('refresh_tokens').select('token_hash').execute()
  t.notOk(stored.some((r) => r.token_hash === body.refreshToken))
  t.ok(stored.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)))
  t.ok((await auditActions('login.success')).some((e) => e.actorEmail === superAdmin.email))
})

t.test('email is case-insensitive', async (t) => {
  const res = await login(superAdmin.email.toUpperCase(), superAdmin.password)
  t.equal(res.statusCode, 200, res.body)
})

t.test('a missing token is anonymous, a bad or expired one is 401 with what to do', async (t) => {
  const anonymous = await app.inject({ method: 'GET', url: '/api/auth/me' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error, 'Unauthorized')

  const forged = await me('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl')
  t.equal(forged.statusCode, 401)
  t.match(forged.json(), { error: 'Unauthorized', message: /refresh .*log in again/ })

  const expired = h.app.jwt.sign({ sub: '00000000-0000-4000-8000-000000000000', typ: 'operator', role: 'super_admin', email: 'x@y.z' }, { expiresIn: -10 } as never)
  const res = await me(expired)
  t.equal(res.statusCode, 401)
  t.match(res.json().message, /refresh/)

  const basic = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: 'Basic cm9vdDpwdw==' } })
  t.equal(basic.statusCode, 401)
})

t.test('a wrong password is 401 InvalidCredentials, an unknown email the same', async (t) => {
  const wrong = await login(superAdmin.email, 'not-the-password')
  t.equal(wrong.statusCode, 401)
  const unknown = await login('nobody@tenantd.test', 'not-the-password')
  t.equal(unknown.statusCode, 401)
  t.same(unknown.json(), wrong.json(), 'same answer: no user enumeration')
  t.same(wrong.json(), { error: 'InvalidCredentials', message: 'Wrong email or password.' })
  t.ok((await auditActions('login.failed')).length >= 2)
  // A success after failures starts the count again.
  t.equal((await login(superAdmin.email, superAdmin.password)).statusCode, 200)
})

t.test('repeated failures lock the account (423) before the password is checked', async (t) => {
  const email = 'locked-op@tenantd.test'
  // An operator to lock, created directly (operator management is not part of auth).
  await h.tenantd.catalog.db.insertInto('operators').values({ email, name: 'Locked', password_hash: await hashPassword('right-password'), role: 'super_admin', tenant_id: null }).execute()

  for (let i = 0; i < 3; i++) t.equal((await login(email, 'wrong-password')).statusCode, 401, `failure ${i + 1}`)
  const locked = await login(email, 'right-password')
  t.equal(locked.statusCode, 423, 'even the right password is refused while locked')
  t.match(locked.json(), { error: 'AccountLocked', message: /Try again in \d+ seconds/ })
  const seconds = Number(/in (\d+) seconds/.exec(locked.json().message)?.[1])
  t.ok(seconds > 590 && seconds <= 600, `retry in ${seconds}s`)

  // Unknown emails lock the same way, so the lock does not reveal which accounts exist.
  for (let i = 0; i < 3; i++) t.equal((await login('ghost@tenantd.test', 'whatever-1')).statusCode, 401)
  t.equal((await login('ghost@tenantd.test', 'whatever-1')).statusCode, 423)

  // Other accounts are unaffected.
  t.equal((await login(superAdmin.email, superAdmin.password)).statusCode, 200)
  t.ok((await auditActions('login.locked')).some((e) => e.actorEmail === email))

  // The lock lifts when the failures leave the window.
  await h.tenantd.catalog.db.updateTable('login_attempts').set({ attempted_at: new Date(Date.now() - 601_000) }).where('identifier', '=', email).execute()
  t.equal((await login(email, 'right-password')).statusCode, 200, 'unlocked after the window')
})

t.test('refresh rotates: the new pair works, the old refresh token is spent', async (t) => {
  const first = await h.login(superAdmin.email, superAdmin.password)
  const res = await refresh(first.refreshToken)
  t.equal(res.statusCode, 200, res.body)
  const second = res.json()
  t.not(second.refreshToken, first.refreshToken)
  t.match(second, { accessToken: String, expiresIn: Number, user: { email: superAdmin.email } }, 'a new pair')
  t.equal((await me(second.accessToken)).statusCode, 200)

  const third = await refresh(second.refreshToken)
  t.equal(third.statusCode, 200, 'the successor rotates too')
})

t.test('reusing a spent refresh token revokes the whole family', async (t) => {
  const first = await h.login(superAdmin.email, superAdmin.password)
  const second = (await refresh(first.refreshToken)).json()

  const reuse = await refresh(first.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().error, 'RefreshTokenReused')

  const newest = await refresh(second.refreshToken)
  t.equal(newest.statusCode, 401, "the family's newest token no longer works")
  t.equal(newest.json().error, 'InvalidRefreshToken')
  t.ok((await auditActions('refresh_token_reused')).length >= 1, 'audited')
})

t.test('two concurrent refreshes of one token: exactly one wins, the other is reuse', async (t) => {
  const { refreshToken } = await h.login(superAdmin.email, superAdmin.password)
  const results = await Promise.all([refresh(refreshToken), refresh(refreshToken)])
  const codes = results.map((r) => r.statusCode).sort()
  t.same(codes, [200, 401])
  t.equal(results.find((r) => r.statusCode === 401)!.json().error, 'RefreshTokenReused')
})

t.test('unknown refresh tokens are 401 InvalidRefreshToken; bodies are strict', async (t) => {
  const res = await refresh('not-a-token')
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'InvalidRefreshToken')
  const extra = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@b.c', password: 'x', admin: true } })
  t.equal(extra.statusCode, 400)
  t.equal(extra.json().error, 'ValidationError')
})

t.test('logout revokes the session; a stale access token does not block it', async (t) => {
  const { refreshToken } = await h.login(superAdmin.email, superAdmin.password)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: 'Bearer expired.or.garbage' }, payload: { refreshToken } })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const after = await refresh(refreshToken)
  t.equal(after.statusCode, 401)
  t.equal(after.json().error, 'InvalidRefreshToken')
})

t.test('a deleted operator cannot refresh', async (t) => {
  const email = 'leaving@tenantd.test'
  await h.tenantd.catalog.db.insertInto('operators').values({ email, name: 'Leaving', password_hash: await hashPassword('leaving-password'), role: 'super_admin', tenant_id: null }).execute()
  const { refreshToken } = await h.login(email, 'leaving-password')
  await h.tenantd.catalog.db.deleteFrom('operators').where('email', '=', email).execute()
  const res = await refresh(refreshToken)
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'InvalidRefreshToken')
})

t.test('auth routes are rate limited: 429 RateLimited with the wait', async (t) => {
  const limited = await startHarness(t, { cluster, env: { TENANTD_AUTH_RATE_LIMIT: '3' } })
  const codes: number[] = []
  let last
  for (let i = 0; i < 4; i++) {
    last = await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'x@tenantd.test', password: 'wrong-password' } })
    codes.push(last.statusCode)
  }
  t.same(codes, [401, 401, 401, 429])
  t.match(last!.json(), { error: 'RateLimited', message: /retry in \d+ seconds/ })
  t.ok(Number(last!.headers['retry-after']) > 0)
  // Another client address has its own budget.
  const other = await limited.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '10.1.2.3', payload: { email: 'x@tenantd.test', password: 'wrong-password' } })
  t.equal(other.statusCode, 401)
})

t.test('no password or refresh token reaches the logs', async (t) => {
  const { refreshToken, accessToken } = await h.login(superAdmin.email, superAdmin.password)
  await refresh(refreshToken)
  await refresh(refreshToken)
  const text = h.logLines.join('\n')
  t.ok(h.logLines.length > 0, 'something was logged')
  for (const secret of [superAdmin.password, 'right-password', refreshToken, accessToken]) {
    t.notOk(text.includes(secret), 'no secret in the log')
  }
})
