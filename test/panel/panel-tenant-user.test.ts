import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { launchBrowser, seriousAxeViolations, titleOf } from '../helpers/browser.js'
import { startHarness } from '../helpers/harness.js'
import { emblemPng } from '../helpers/png.js'

// The web panel on a tenant's own address (issue 10, item 2): Chromium resolves
// <sub>.localhost to the loopback by itself, so http://acme.localhost:<port>/panel reaches the
// test's tenantd with Host acme.localhost (TENANTD_BASE_DOMAIN is localhost in the harness).
// There the panel signs in that tenant's users and shows only the workspace pages.

t.setTimeout(120_000)

const h = await startHarness(t)
await h.app.listen({ host: '127.0.0.1', port: 0 })
const port = (h.app.server.address() as AddressInfo).port
const acme = { name: 'Acme Corp', slug: 'acme', adminName: 'Ada Owner', adminEmail: 'owner@acme.test', adminPassword: 'acme-admin-pass' }
const globex = { name: 'Globex', slug: 'globex', adminEmail: 'owner@globex.test', adminPassword: 'globex-admin-pass' }
const acmeBase = `http://acme.localhost:${port}`
const globexBase = `http://globex.localhost:${port}`
const member = { email: 'member@acme.test', name: 'Mo Member', password: 'member-pass-1' }
/** A real 96×96 PNG emblem. */
const pngLogo = emblemPng(96)

const [{ newPage }] = await Promise.all([launchBrowser(t), h.provision(acme), h.provision(globex)])

/** Signs in on the sign-in page the browser is on, and waits to leave it. */
async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/panel/login'))
}

/**
 * Takes the console errors matching `expected` out of `errors` (Chromium logs each refused
 * request as a failed resource, a moment after the answer), failing when none came.
 */
async function expectErrors(t: Test, errors: string[], expected: RegExp, why: string): Promise<void> {
  for (let waited = 0; waited < 3_000 && !errors.some((e) => expected.test(e)); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(errors.some((e) => expected.test(e)), `${why}: logged as ${expected}`)
  errors.splice(0, errors.length, ...errors.filter((e) => !expected.test(e)))
}

t.test("a tenant's admin signs in on the tenant's address: workspace, export, users, no operator pages, no other tenant", async (t) => {
  const { page, errors } = await newPage({ viewport: { width: 1280, height: 800 } })

  // Sign-in names the tenant; a wrong password shows tenantd's message.
  await page.goto(`${acmeBase}/panel`)
  await page.waitForURL(`${acmeBase}/panel/login?next=%2Fpanel`)
  await page.getByRole('heading', { name: 'Sign in to Acme Corp', level: 1 }).waitFor()
  t.equal(await titleOf(page, 'Sign in to Acme Corp · tenantd'), 'Sign in to Acme Corp · tenantd')
  await page.getByLabel('Email').fill(acme.adminEmail)
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').getByText('Wrong email or password.').waitFor()
  await expectErrors(t, errors, /status of 401/, 'the refused login')

  // The workspace: the tenant's public details, the account, the tenant-user navigation.
  await signIn(page, { email: acme.adminEmail, password: acme.adminPassword })
  await page.waitForURL(`${acmeBase}/panel/workspace`)
  await page.getByRole('heading', { name: acme.name, level: 1 }).waitFor()
  const details = page.getByRole('region', { name: 'Details' })
  await details.getByText('acme', { exact: true }).first().waitFor()
  t.match(await details.textContent(), /Acme Corp.*acme.*acme.*active/s, 'name, slug, subdomain and status')
  t.same(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents(), ['Workspace', 'Users'])
  t.match(await page.getByRole('banner').textContent(), /Acme Corp.*owner@acme\.test.*Log out/s, 'the header names the tenant and the user')
  t.match(await page.getByRole('region', { name: 'Your account' }).textContent(), /owner@acme\.test.*Ada Owner.*Admin/s)

  // Export data: the tenant admin user's own tenant, downloaded as a file.
  const [download, exported] = await Promise.all([
    page.waitForEvent('download'),
    page.waitForResponse((r) => r.url().includes('/api/tenants/export')),
    page.getByRole('button', { name: 'Export data' }).click(),
  ])
  t.equal(exported.status(), 200, 'the export request succeeds')
  t.match(download.suggestedFilename(), /acme.*\.json$/, `downloaded as ${download.suggestedFilename()}`)
  const exportDoc = JSON.parse(await readFile(await download.path(), 'utf8')) as { tenant?: { slug?: string } }
  t.equal(exportDoc.tenant?.slug, 'acme', "the export is acme's")

  // Branding: the tenant's admin uploads its logo (a coat of arms); the header shows it at once.
  const branding = page.getByRole('region', { name: 'Branding' })
  await branding.getByText('No logo').waitFor()
  await branding.getByLabel('Upload a logo').setInputFiles({ name: 'brasao.png', mimeType: 'image/png', buffer: pngLogo })
  await branding.getByRole('status').getByText('Logo uploaded: brasao.png.').waitFor()
  await branding.getByRole('img', { name: 'Logo of Acme Corp' }).waitFor()
  const headerLogo = page.getByRole('banner').locator('img.brand-logo')
  await headerLogo.waitFor()
  t.equal(await headerLogo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), 96, 'the header shows the uploaded image')
  t.match(await headerLogo.getAttribute('src'), /^\/api\/tenants\/current\/logo\?v=/, "served from the tenant's own address")

  // Users: the admin is listed; add a member; a duplicate shows tenantd's message.
  await page.getByRole('link', { name: 'Users' }).click()
  await page.waitForURL(`${acmeBase}/panel/users`)
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor()
  const table = page.getByRole('region', { name: 'Users' })
  await table.getByText(acme.adminEmail).waitFor()
  await page.getByRole('textbox', { name: 'Email' }).fill(member.email)
  await page.getByRole('textbox', { name: 'Name' }).fill(member.name)
  await page.getByLabel('Password').fill(member.password)
  await page.getByLabel('Role').selectOption('member')
  await page.getByRole('button', { name: 'Add user' }).click()
  await page.getByRole('status').getByText(`${member.email} was added as a member.`).waitFor()
  await table.locator(`tr[data-user="${member.email}"]`).getByText('Member', { exact: true }).waitFor()
  t.equal(await table.locator('tbody tr').count(), 2, 'the admin and the new member')
  await page.getByRole('textbox', { name: 'Email' }).fill(member.email)
  await page.getByLabel('Password').fill(member.password)
  await page.getByRole('button', { name: 'Add user' }).click()
  await page.getByRole('alert').getByText(`A user with email ${member.email} already exists in this tenant.`).waitFor()
  t.equal(await page.getByLabel('Password').inputValue(), '', 'the password field is cleared after a refusal')
  await expectErrors(t, errors, /status of 409/, 'the refused duplicate')

  // A reload keeps the session; no token in the URL or localStorage.
  await page.reload()
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor()
  t.notMatch(page.url(), /token/i, 'no token in the URL')
  t.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage')

  // Operator URLs are not available here, and request nothing of the fleet.
  const adminRequests: string[] = []
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/admin')) adminRequests.push(request.url())
  })
  for (const path of ['/panel/tenants', '/panel/tenants/globex', '/panel/hosts', '/panel/audit']) {
    await page.goto(acmeBase + path)
    await page.getByRole('heading', { name: 'Not available here', level: 1 }).waitFor()
    t.equal(await page.getByText('Globex').count(), 0, `${path}: nothing of another tenant`)
  }
  t.same(adminRequests, [], 'no /api/admin request from the tenant address')
  await page.getByRole('link', { name: 'Go to the workspace' }).click()
  await page.getByRole('heading', { name: acme.name, level: 1 }).waitFor()

  // Globex's address: sessions are per origin, so this tab is signed out there.
  await page.goto(`${globexBase}/panel`)
  await page.getByRole('heading', { name: 'Sign in to Globex', level: 1 }).waitFor()
  t.equal(await page.evaluate(() => sessionStorage.getItem('tenantd.panel.refreshToken')), null, 'no session on globex')
  t.equal(await page.getByText('Acme').count(), 0, "nothing of acme on globex's address")
  // And acme's token is refused on globex's address.
  const acmeToken = (await h.login(acme.adminEmail, acme.adminPassword, { host: `acme.localhost:${port}` })).accessToken
  const fromPage = await page.evaluate(async (token) => {
    const res = await fetch('/api/users', { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as { error?: string } }
  }, acmeToken)
  t.equal(fromPage.status, 403, "acme's token on globex's address")
  t.equal(fromPage.body.error, 'CrossTenantAccessBlocked')
  await expectErrors(t, errors, /status of 403/, 'the refused cross-tenant request')
  const direct = await h.app.inject({ method: 'GET', url: '/api/tenants/current', headers: { host: `globex.localhost:${port}`, authorization: `Bearer ${acmeToken}` } })
  t.equal(direct.statusCode, 403, 'the API refuses it too')
  t.equal(direct.json().error, 'CrossTenantAccessBlocked')
  const operatorRoute = await h.app.inject({ method: 'GET', url: '/api/admin/tenants', headers: { authorization: `Bearer ${acmeToken}` } })
  t.equal(operatorRoute.statusCode, 403, 'a tenant-user token opens no /api/admin route')

  // Back on acme's address the tab's acme session is still there; log out returns to sign-in.
  await page.goto(`${acmeBase}/panel`)
  await page.waitForURL(`${acmeBase}/panel/workspace`)
  await page.getByRole('heading', { name: acme.name, level: 1 }).waitFor()
  const refreshToken = await page.evaluate(() => sessionStorage.getItem('tenantd.panel.refreshToken'))
  t.ok(refreshToken, 'the tab holds a refresh token while signed in')
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.waitForURL(`${acmeBase}/panel/login`)
  await page.getByRole('heading', { name: 'Sign in to Acme Corp', level: 1 }).waitFor()
  t.equal(await page.evaluate(() => sessionStorage.getItem('tenantd.panel.refreshToken')), null, 'the tab forgot it')
  const reuse = await h.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })
  t.equal(reuse.statusCode, 401, 'the server revoked it')

  // A deep link while signed out returns to that page after signing in (?next=).
  await page.goto(`${acmeBase}/panel/users`)
  await page.waitForURL(`${acmeBase}/panel/login?next=%2Fpanel%2Fusers`)
  await signIn(page, { email: acme.adminEmail, password: acme.adminPassword })
  await page.waitForURL(`${acmeBase}/panel/users`)
  await page.getByRole('region', { name: 'Users' }).getByText(member.email).waitFor()

  t.same(errors, [], 'no other console errors or uncaught exceptions')
})

t.test('a member sees the workspace without export or users', async (t) => {
  const { page, errors } = await newPage()
  await page.goto(`${acmeBase}/panel/users`)
  await signIn(page, member)
  await page.waitForURL(`${acmeBase}/panel/users`)
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor()
  await page.getByText("Only the workspace's admins can see this page.").waitFor()
  t.same(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents(), ['Workspace'])
  await page.getByRole('link', { name: 'Go to the workspace' }).click()
  await page.getByRole('heading', { name: acme.name, level: 1 }).waitFor()
  await page.getByRole('region', { name: 'Your account' }).getByText('Member', { exact: true }).waitFor()
  t.equal(await page.getByRole('button', { name: 'Export data' }).count(), 0, 'no export for a member')
  t.same(errors, [], 'no console errors')
})

t.test('an address that names no tenant says so', async (t) => {
  const { page, errors } = await newPage()
  await page.goto(`http://nobody.localhost:${port}/panel`)
  await page.getByRole('heading', { name: 'This address is not available', level: 1 }).waitFor()
  await page.getByRole('alert').getByText('TenantNotFound', { exact: true }).waitFor()
  t.equal(await page.getByLabel('Password').count(), 0, 'no sign-in form')
  await expectErrors(t, errors, /status of 404/, 'the unknown tenant')
  t.same(errors, [], 'no other console errors')
})

t.test('axe finds no serious or critical violations on the sign-in, workspace and users pages', async (t) => {
  // bypassCSP lets the test inject axe; the panel itself never needs it.
  const { page, errors } = await newPage({ bypassCSP: true, viewport: { width: 1280, height: 800 } })
  await page.goto(`${acmeBase}/panel/login`)
  await page.getByRole('heading', { name: 'Sign in to Acme Corp' }).waitFor()
  t.same(await seriousAxeViolations(page), [], 'sign-in page')
  await signIn(page, { email: acme.adminEmail, password: acme.adminPassword })
  await page.getByRole('heading', { name: acme.name, level: 1 }).waitFor()
  await page.locator('.loading').first().waitFor({ state: 'detached' })
  t.same(await seriousAxeViolations(page), [], 'workspace page')
  await page.getByRole('link', { name: 'Users' }).click()
  await page.getByRole('region', { name: 'Users' }).getByText(acme.adminEmail).waitFor()
  t.same(await seriousAxeViolations(page), [], 'users page')
  await page.goto(`${acmeBase}/panel/hosts`)
  await page.getByRole('heading', { name: 'Not available here' }).waitFor()
  t.same(await seriousAxeViolations(page), [], 'not-available page')
  t.same(errors, [], 'no console errors')
})
