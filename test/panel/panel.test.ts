import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import t from 'tap'
import { panelContentSecurityPolicy } from '../../src/panel/panel-routes.js'
import { launchBrowser, seriousAxeViolations, titleOf, type WatchedPage } from '../helpers/browser.js'
import { startHarness } from '../helpers/harness.js'
import { emblemPng } from '../helpers/png.js'

// The web panel against a real tenantd, a real PostgreSQL and a real Chromium: what it serves
// (CSP, hashed immutable assets), what an operator does with it (sign in, provision, install a
// module, back up, suspend and reactivate, read the audit trail, sign out, deep links), and
// that every main page passes axe. TENANTD_PANEL_SCREENSHOTS=1 also writes docs/panel/*.png.

t.setTimeout(180_000)

// Sizes are sampled on the production schedule here, so the tenant page says so (and the screenshots show it).
const h = await startHarness(t, { env: { TENANTD_SIZE_SAMPLE_MINUTES: '60' } })
await h.app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
const { newPage } = await launchBrowser(t)
const admin = h.superAdmin
const tenant = { name: 'Acme Corp', slug: 'acme', adminEmail: 'owner@acme.test', adminPassword: 'acme-admin-pass' }
/** A real 96×96 PNG emblem. */
const pngLogo = emblemPng(96)

/** Signs in on the sign-in page the browser is on (as the super-admin by default), and waits to leave it. */
async function signIn(page: Page, who: { email: string; password: string } = admin): Promise<void> {
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/panel/login'))
}

t.test('GET /panel answers index.html with a strict CSP, and hashed assets cached for a year', async (t) => {
  const res = await fetch(`${base}/panel`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  t.equal(res.headers.get('content-security-policy'), panelContentSecurityPolicy, 'the strict CSP')
  t.match(res.headers.get('content-security-policy'), /script-src 'self'; style-src 'self'/)
  t.equal(res.headers.get('cache-control'), 'no-cache', 'index.html is revalidated every time')
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  t.equal(res.headers.get('referrer-policy'), 'no-referrer')
  const html = await res.text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /\bstyle=|<style/, 'no inline style')

  const assets = [...html.matchAll(/\/panel\/assets\/[\w-]+\.([0-9a-f]{12})\.(js|css|svg)/g)].map((m) => m[0])
  t.equal(assets.length, 3, `script, stylesheet and icon, each with a content hash: ${assets.join(', ')}`)
  for (const asset of assets) {
    const file = await fetch(base + asset)
    t.equal(file.status, 200, asset)
    t.equal(file.headers.get('cache-control'), 'public, max-age=31536000, immutable', `${asset} is immutable`)
    t.equal(file.headers.get('x-content-type-options'), 'nosniff')
    t.match(file.headers.get('content-type'), asset.endsWith('.js') ? /^text\/javascript/ : asset.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/)
  }

  const deep = await fetch(`${base}/panel/tenants/acme`)
  t.equal(deep.status, 200, 'a client route answers the same page')
  t.equal(await deep.text(), html)
  const missing = await fetch(`${base}/panel/assets/app.000000000000.js`)
  t.equal(missing.status, 404)
  t.match(await missing.json(), { error: 'NotFound', message: /reload \/panel/ })

  const doc = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> }
  t.same(Object.keys(doc.paths).filter((p) => p.startsWith('/panel')), [], 'the panel routes are not in the OpenAPI document')
})

t.test('the CSP blocks inline script in the browser', async (t) => {
  const { page, errors } = await newPage()
  await page.goto(`${base}/panel`)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  const violation = page.evaluate(
    () => new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (event) => resolve(event.violatedDirective), { once: true }))
  )
  await page.addScriptTag({ content: 'window.__inlineRan = 1' }).catch(() => undefined)
  t.match(await violation, /^script-src/, 'a script-src violation is reported')
  t.equal(await page.evaluate(() => (window as unknown as { __inlineRan?: number }).__inlineRan), undefined, 'the inline script did not run')
  t.ok(errors.length > 0 && errors.every((e) => /Content Security Policy/.test(e)), `the only console errors are the CSP refusal: ${errors.join(' | ')}`)
})

t.test('an operator signs in, provisions a tenant, installs a module, backs up, suspends, reactivates, signs out', async (t) => {
  const watched: WatchedPage = await newPage({ viewport: { width: 1280, height: 800 } })
  const { page, errors } = watched

  await page.goto(`${base}/panel`)
  await page.waitForURL(`${base}/panel/login?next=%2Fpanel`)
  t.equal(await titleOf(page, 'Sign in · tenantd'), 'Sign in · tenantd')
  await page.getByLabel('Email').fill(admin.email)
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').filter({ hasText: /password/i }).waitFor()
  errors.splice(0) // the refused login's 401 is logged by Chromium as a failed resource
  await signIn(page)
  await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor()
  t.equal(await titleOf(page, 'Tenants · tenantd'), 'Tenants · tenantd')
  await page.getByText('No tenants yet.').waitFor()
  t.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').count(), 7, 'Tenants, Hosts, Operators, Operations, Migrations, Edge, Audit')

  // Provision through the form: inline validation first, then live progress until active.
  await page.getByRole('link', { name: 'New tenant' }).click()
  await page.getByRole('heading', { name: 'New tenant' }).waitFor()
  await page.getByRole('button', { name: 'Provision tenant' }).click()
  await page.getByText('Give the tenant a name.').waitFor()
  t.equal(await page.getByRole('textbox', { name: 'Name', exact: true }).evaluate((el) => el === document.activeElement), true, 'the first invalid field takes focus')
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(tenant.name)
  await page.getByLabel('Slug').fill('Not A Slug')
  await page.getByLabel('Slug').blur()
  await page.getByText(/Use 3–40 lowercase letters/).waitFor()
  t.equal(await page.getByLabel('Slug').getAttribute('aria-invalid'), 'true')
  await page.getByLabel('Slug').fill(tenant.slug)
  await page.getByLabel('Admin email').fill(tenant.adminEmail)
  await page.getByLabel('Admin password').fill('short')
  await page.getByLabel('Admin password').blur()
  await page.getByText('At least 8 characters.').waitFor()
  await page.getByLabel('Admin password').fill(tenant.adminPassword)
  t.equal(await page.locator('[aria-invalid="true"]').count(), 0, 'no field is invalid any more')
  await page.getByRole('button', { name: 'Provision tenant' }).click()
  await page.getByRole('heading', { name: `Provisioning ${tenant.name}` }).waitFor()
  await page.getByRole('progressbar').waitFor()
  await page.getByText(`${tenant.name} is active.`).waitFor({ timeout: 90_000 })
  t.equal(await page.getByRole('progressbar').getAttribute('value'), '100')
  await page.getByRole('link', { name: `Open ${tenant.name}` }).click()

  // The tenant's page.
  await page.waitForURL(`${base}/panel/tenants/${tenant.slug}`)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()
  t.equal(await titleOf(page, `${tenant.name} · tenantd`), `${tenant.name} · tenantd`)
  const details = page.getByRole('region', { name: 'Details' })
  await details.getByText('tenant_acme').waitFor()
  t.match(await details.textContent(), /acme/)

  // Install a module and see it installed.
  const modules = page.getByRole('region', { name: 'Modules' }).first()
  await modules.getByRole('button', { name: 'Install price-basket' }).click()
  await page.locator('tr[data-module="price-basket"]').getByText('Installed').waitFor({ timeout: 60_000 })
  await modules.getByRole('button', { name: 'Uninstall price-basket' }).waitFor()

  // Back up now, and see the backup verified.
  const backups = page.getByRole('region', { name: 'Backups' }).first()
  await backups.getByRole('button', { name: 'Back up now' }).click()
  await backups.getByRole('table').getByText('Verified').waitFor({ timeout: 60_000 })

  // Suspend (with a reason) and reactivate.
  const heading = page.getByRole('heading', { level: 1 })
  await page.getByRole('button', { name: 'Suspend' }).click()
  const dialog = page.getByRole('dialog', { name: `Suspend ${tenant.name}?` })
  await dialog.getByLabel('Reason (optional)').fill('payment failure')
  await dialog.getByRole('button', { name: 'Suspend' }).click()
  await heading.getByText('Suspended').waitFor()
  await page.getByText('Reason: payment failure', { exact: true }).waitFor()
  await page.getByRole('button', { name: 'Reactivate' }).click()
  await heading.getByText('Active').waitFor()

  // Destructive actions need the slug typed.
  await page.getByRole('button', { name: 'Delete' }).click()
  const confirm = page.getByRole('dialog', { name: `Delete ${tenant.name}?` })
  const confirmButton = confirm.getByRole('button', { name: 'Delete' })
  t.ok(await confirmButton.isDisabled(), 'Delete is disabled until the slug is typed')
  await confirm.getByLabel(/Type .* to confirm/).fill('acm')
  t.ok(await confirmButton.isDisabled(), 'a wrong word keeps it disabled')
  await confirm.getByLabel(/Type .* to confirm/).fill(tenant.slug)
  t.ok(await confirmButton.isEnabled(), 'the slug enables it')
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  await confirm.waitFor({ state: 'detached' })

  // The audit trail shows what was done.
  const audit = page.getByRole('region', { name: 'Audit trail' }).first()
  for (const action of ['tenant.provision', 'module.install', 'backup.run', 'tenant.suspend', 'tenant.reactivate']) {
    await audit.getByText(action, { exact: true }).first().waitFor()
  }
  t.pass('provision, module install, backup, suspend and reactivate are in the audit trail')

  // The fleet pages answer, with what was just done.
  await page.getByRole('link', { name: 'Operations' }).click()
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor()
  await page.getByRole('table').getByText('provision', { exact: true }).first().waitFor()
  await page.getByRole('link', { name: 'Hosts' }).click()
  await page.getByRole('heading', { name: 'Database hosts' }).waitFor()
  await page.getByRole('table').getByText('test-host').waitFor()

  // A reload keeps the session (the refresh token is in this tab's sessionStorage, never in the URL).
  await page.goto(`${base}/panel/tenants/${tenant.slug}`)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()
  t.notMatch(page.url(), /token/i, 'no token in the URL')
  t.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage')

  // Log out: back at sign-in, and the refresh token is revoked.
  const refreshToken = await page.evaluate(() => sessionStorage.getItem('tenantd.panel.refreshToken'))
  t.ok(refreshToken, 'the tab holds a refresh token while signed in')
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.waitForURL(`${base}/panel/login`)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  t.equal(await page.evaluate(() => sessionStorage.getItem('tenantd.panel.refreshToken')), null, 'the tab forgot it')
  const reuse = await fetch(`${base}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) })
  t.equal(reuse.status, 401, 'the server revoked it')

  // A deep link while signed out returns to that page after signing in.
  await page.goto(`${base}/panel/tenants/${tenant.slug}`)
  await page.waitForURL(`${base}/panel/login?next=%2Fpanel%2Ftenants%2F${tenant.slug}`)
  await signIn(page)
  await page.waitForURL(`${base}/panel/tenants/${tenant.slug}`)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()

  t.same(errors, [], 'no console errors or uncaught exceptions')
})

t.test('a session the server no longer honours returns to sign-in, then to the page', async (t) => {
  const { page, errors } = await newPage()
  await page.goto(`${base}/panel/operations`)
  await signIn(page)
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor()
  await page.evaluate(() => sessionStorage.setItem('tenantd.panel.refreshToken', 'revoked-or-expired'))
  await page.reload()
  await page.waitForURL(`${base}/panel/login?next=%2Fpanel%2Foperations`)
  await signIn(page)
  await page.waitForURL(`${base}/panel/operations`)
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor()
  // Chromium logs the refused refresh (401) as a failed resource; nothing else may appear.
  t.same(
    errors.filter((e) => !/status of 401/.test(e)),
    [],
    'no console errors besides the refused refresh'
  )
})

t.test('a failed operation still putting things back reads Failing, with its error and no Retry yet', async (t) => {
  const acme = await h.tenantd.tenants.get(tenant.slug)
  // What the runner records between a step's failure and the end of the handler's undo: still
  // running and claimed (by a live replica elsewhere: a heartbeat no sweeper finds stale), with the error.
  const { id } = await h.tenantd.catalog.db
    .insertInto('operations')
    .values({ kind: 'move_tenant', tenant_id: acme.id, status: 'running', step: 'copyData', progress: 40, params: '{}', error: 'the target host stopped answering', claimed_by: 'replica-elsewhere', heartbeat_at: new Date(Date.now() + 3_600_000), created_at: new Date(), updated_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow()
  t.teardown(() => h.tenantd.catalog.db.deleteFrom('operations').where('id', '=', id).execute())
  const { page, errors } = await newPage()
  await page.goto(`${base}/panel/operations`)
  await signIn(page)
  const row = page.getByRole('row').filter({ hasText: 'the target host stopped answering' })
  await row.waitFor()
  t.equal(await row.locator('.badge').innerText(), 'failing', 'the state reads failing, not running')
  t.equal(await row.getByRole('button', { name: /^Retry/ }).count(), 0, 'no Retry while it puts things back')
  t.same(errors, [], 'no console errors')
})

t.test('an operator sees database sizes and their history, and brands a tenant (logo, name)', async (t) => {
  t.equal((await h.asAdmin({ method: 'POST', url: '/api/admin/size-samples' })).statusCode, 200)
  // A sample from two days ago, so the history has two days to draw.
  await h.catalogQuery(`insert into tenant_size_samples (tenant_id, sampled_at, bytes) select id, now() - interval '2 days', 4000000 from tenants where slug = $1`, [tenant.slug])
  const { page, errors } = await newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(`${base}/panel/tenants?sort=size`)
  await signIn(page)
  const row = page.getByRole('region', { name: 'Tenants' }).getByRole('row').filter({ hasText: tenant.slug })
  await row.getByText(/\d+(\.\d+)? MB/).waitFor()

  await page.goto(`${base}/panel/tenants/${tenant.slug}`)
  const database = page.getByRole('region', { name: 'Database' })
  await database.getByRole('img', { name: /Database size over the last 30 days/ }).waitFor()
  t.match(await database.locator('figcaption').textContent(), /Database size, largest of each day: .* now, up .* since/, 'the chart says what it shows')

  const branding = page.getByRole('region', { name: 'Branding' })
  await branding.getByLabel('Upload a logo').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') })
  await branding.getByRole('alert').getByText(/SVG logos are not accepted/).waitFor()
  await branding.getByLabel('Upload a logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: pngLogo })
  await branding.getByRole('img', { name: `Logo of ${tenant.name}` }).waitFor()
  t.equal(await branding.getByRole('alert').count(), 0, 'the earlier refusal is gone')
  await branding.getByLabel('Display name').fill('Acme Prefeitura')
  await branding.getByRole('button', { name: 'Save name' }).click()
  await page.getByRole('heading', { name: 'Acme Prefeitura', level: 1 }).waitFor()
  const audit = page.getByRole('region', { name: /Audit/ }).first()
  await audit.getByText('tenant.logo.set').first().waitFor()
  t.same(errors.filter((e) => !/status of 415/.test(e)), [], 'no console errors besides the refused SVG')
  // Back to the name the later tests use.
  t.equal((await h.asAdmin({ method: 'PATCH', url: `/api/admin/tenants/${tenant.slug}`, payload: { name: tenant.name } })).statusCode, 200)
})

t.test('a tenant_admin operator sees only its own tenant, also when typing another URL', async (t) => {
  await h.provision({ name: 'Other Co', slug: 'other' })
  const operator = { email: 'ops@acme.test', password: 'acme-operator-pass' }
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { ...operator, role: 'tenant_admin', tenant: tenant.slug } })
  t.equal(created.statusCode, 201, created.statusCode === 201 ? 'the tenant_admin operator is created' : created.body)
  const { page, errors } = await newPage()
  await page.goto(`${base}/panel`)
  await signIn(page, operator)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()
  t.match(page.url(), /\/panel\/tenants\/[0-9a-f-]{36}$/, 'the start page is its tenant')
  const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link')
  t.same(await nav.allTextContents(), ['My tenant'], 'no fleet pages in the navigation')
  await page.getByRole('region', { name: 'Backups' }).first().getByRole('table').waitFor()
  t.equal(await page.getByRole('button', { name: /Suspend|Delete|Back up now|Install/ }).count(), 0, 'no super-admin actions')
  const headerLogo = page.getByRole('banner').locator('img.brand-logo')
  await headerLogo.waitFor()
  t.equal(await headerLogo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), 96, "the header shows its tenant's logo")
  t.match(await page.getByRole('banner').textContent(), new RegExp(tenant.name), "and its tenant's name")

  await page.goto(`${base}/panel/tenants/other`)
  await page.getByRole('alert').getByText('You are not an administrator of this tenant.').waitFor()
  t.equal(await page.getByText('Other Co').count(), 0, "nothing of the other tenant is shown")
  await page.goto(`${base}/panel/tenants`)
  await page.waitForURL(/\/panel\/tenants\/[0-9a-f-]{36}$/)
  // Chromium logs the API's 403 as a failed resource; nothing else may appear.
  t.same(errors.filter((e) => !/status of 403/.test(e)), [], 'no console errors besides the refused request')
})

t.test('runbook 004 in the panel: an operator adds an operator, revokes its sessions, removes it', async (t) => {
  const second = { email: 'second@tenantd.test', name: 'Second Operator', password: 'second-password-1' }
  const { page, errors } = await newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(`${base}/panel/operators`)
  await signIn(page)
  await page.waitForURL(`${base}/panel/operators`)
  await page.getByRole('heading', { name: 'Operators', level: 1 }).waitFor()
  t.equal(await titleOf(page, 'Operators · tenantd'), 'Operators · tenantd')
  t.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operators' }).getAttribute('aria-current'), 'page')
  const table = page.getByRole('region', { name: 'Operators', exact: true })
  const rowOf = (email: string) => table.getByRole('row').filter({ hasText: email })
  await rowOf(admin.email).getByText('you', { exact: true }).waitFor()
  t.equal(await rowOf(admin.email).getByRole('button').count(), 0, 'no Revoke or Remove on the signed-in operator itself')
  t.equal(await rowOf('ops@acme.test').getByRole('link', { name: tenant.slug }).getAttribute('href'), `/panel/tenants/${tenant.slug}`, "a tenant admin's tenant links to it")

  // Inline validation first; a tenant admin needs a tenant, a super-admin none.
  const form = page.getByRole('form', { name: 'Add an operator' })
  const email = form.getByRole('textbox', { name: 'Email' })
  await form.getByRole('button', { name: 'Add operator' }).click()
  await form.getByText('Enter an email address like ops@example.com.').waitFor()
  t.equal(await email.evaluate((el) => el === document.activeElement), true, 'the first invalid field takes focus')
  await form.getByText('At least 8 characters.', { exact: true }).waitFor()
  await form.getByLabel('Role').selectOption('tenant_admin')
  await form.getByText('A tenant admin administers one tenant: give its slug.').waitFor()
  await form.getByLabel('Role').selectOption('super_admin')
  await form.getByRole('textbox', { name: 'Tenant' }).waitFor({ state: 'detached' })

  // Add a super-admin through the form.
  await email.fill(second.email)
  await form.getByRole('textbox', { name: 'Name', exact: true }).fill(second.name)
  await form.getByLabel('Password').fill(second.password)
  t.equal(await form.locator('[aria-invalid="true"]').count(), 0, 'no field is invalid any more')
  await form.getByRole('button', { name: 'Add operator' }).click()
  await form.getByRole('status').getByText(`${second.email} can now sign in as super admin.`).waitFor()
  await rowOf(second.email).getByText(second.name).waitFor()
  t.match(await rowOf(second.email).textContent(), /Super admin.*All tenants.*never/, 'role, tenant and no sign-in yet')
  t.equal(await form.getByLabel('Password').inputValue(), '', 'the password is cleared')

  // The new operator signs in elsewhere; the runbook: revoke all its sessions.
  const { refreshToken } = await h.login(second.email, second.password)
  await rowOf(second.email).getByRole('button', { name: `Revoke sessions of ${second.email}` }).click()
  const revoke = page.getByRole('dialog', { name: `Revoke every session of ${second.email}?` })
  await revoke.getByText(/Every refresh token of .* is revoked/).waitFor()
  await revoke.getByText(/Access tokens already issued expire on their own within minutes/).waitFor()
  await revoke.getByRole('button', { name: 'Revoke sessions' }).click()
  await revoke.waitFor({ state: 'detached' })
  await page.getByRole('status').getByText(`1 session(s) of ${second.email} revoked; access tokens already issued expire within minutes.`).waitFor()
  const refused = await fetch(`${base}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) })
  t.equal(refused.status, 401, 'its refresh token is refused')

  // Remove it.
  await rowOf(second.email).getByRole('button', { name: `Remove ${second.email}` }).click()
  const remove = page.getByRole('dialog', { name: `Remove ${second.email}?` })
  await remove.getByText(/This cannot be undone/).waitFor()
  await remove.getByRole('button', { name: 'Remove operator' }).click()
  await remove.waitFor({ state: 'detached' })
  await page.getByRole('status').getByText(`${second.email} is removed; its sessions have ended.`).waitFor()
  await rowOf(second.email).waitFor({ state: 'detached' })
  await rowOf(admin.email).waitFor()

  // An email already in use: tenantd's 409 message, the password cleared.
  await email.fill(admin.email)
  await form.getByLabel('Password').fill('another-password-1')
  await form.getByRole('button', { name: 'Add operator' }).click()
  await form.getByRole('alert').getByText(`an operator with email ${admin.email} already exists`).waitFor()
  t.equal(await form.getByLabel('Password').inputValue(), '', 'the password is cleared after a refusal too')

  for (const action of ['operator.create', 'operator.revoke_sessions', 'operator.remove']) {
    const res = await h.asAdmin({ method: 'GET', url: `/api/audit-logs?action=${action}` })
    const items = (res.json() as { items: Array<{ action: string; target: string | null; actorEmail: string | null }> }).items
    t.ok(
      items.some((e) => e.action === action && e.target === second.email && e.actorEmail === admin.email),
      `${action} of ${second.email} by ${admin.email} is in the audit log`
    )
  }
  // Chromium logs the refused duplicate (409) as a failed resource; nothing else may appear.
  t.same(errors.filter((e) => !/status of 409/.test(e)), [], 'no console errors besides the refused request')
})

t.test('axe finds no serious or critical violations on the main pages', async (t) => {
  // bypassCSP lets the test inject axe; the panel itself never needs it.
  const { page, errors } = await newPage({ bypassCSP: true, viewport: { width: 1280, height: 800 } })

  const check = async (name: string) => {
    t.same(await seriousAxeViolations(page), [], `${name}: no serious or critical violations`)
  }

  await page.goto(`${base}/panel/login`)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await check('sign-in page')
  await signIn(page)
  await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor()
  await page.getByRole('link', { name: tenant.name }).waitFor()
  await check('tenants page')
  const pages: Array<[string, string, string]> = [
    ['new tenant page', '/panel/tenants/new', 'New tenant'],
    ["a tenant's page", `/panel/tenants/${tenant.slug}`, tenant.name],
    ['operations page', '/panel/operations', 'Operations'],
    ['hosts page', '/panel/hosts', 'Database hosts'],
    ['operators page', '/panel/operators', 'Operators'],
    ['edge page', '/panel/edge', 'Edge'],
    ['audit page', '/panel/audit', 'Audit log'],
  ]
  for (const [name, url, heading] of pages) {
    await page.goto(base + url)
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
    await page.locator('.loading').first().waitFor({ state: 'detached' })
    await check(name)
  }
  t.same(errors, [], 'no console errors')
})

t.test('screenshots for the README', { skip: process.env.TENANTD_PANEL_SCREENSHOTS === '1' ? false : 'set TENANTD_PANEL_SCREENSHOTS=1 to write docs/panel/*.png' }, async (t) => {
  const dir = path.resolve(import.meta.dirname, '../../docs/panel')
  await mkdir(dir, { recursive: true })
  const shots: Array<[string, string, string]> = [
    ['tenants', '/panel/tenants', 'Tenants'],
    ['tenant', `/panel/tenants/${tenant.slug}`, tenant.name],
    ['new-tenant', '/panel/tenants/new', 'New tenant'],
    ['operations', '/panel/operations', 'Operations'],
    ['hosts', '/panel/hosts', 'Database hosts'],
    ['operators', '/panel/operators', 'Operators'],
  ]
  const sizes = [
    ['laptop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const
  for (const [size, viewport] of sizes) {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await newPage({ viewport, colorScheme })
      const file = (name: string) => path.join(dir, `${name}-${size}${colorScheme === 'dark' ? '-dark' : ''}.png`)
      await page.goto(`${base}/panel/login`)
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      if (colorScheme === 'light') await page.screenshot({ path: file('sign-in') })
      await signIn(page)
      for (const [name, url, heading] of shots) {
        if (colorScheme === 'dark' && name !== 'tenant') continue
        await page.goto(base + url)
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
        await page.locator('.loading').first().waitFor({ state: 'detached' })
        await page.screenshot({ path: file(name), fullPage: true })
      }
    }
  }
  t.pass(`screenshots written to ${dir}`)
})
