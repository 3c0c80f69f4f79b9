import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import t from 'tap'
import { launchBrowser, seriousAxeViolations } from '../helpers/browser.js'
import { startTestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { installModule, tenantClient } from '../modules/module-test-helpers.js'

// The panel's tenant operations against a real tenantd, two real PostgreSQL clusters and a real
// Chromium: register a second host through the form, back up and verify, restore (a row deleted
// after the backup comes back), clone as a new tenant, move to the second host with live
// progress and roll the move back, rotate credentials, add a custom domain, drain a host, the
// migrations matrix and a dry run; each in the audit trail, no console errors, axe on the pages.
// TENANTD_PANEL_SCREENSHOTS=1 also writes docs/panel/{tenant-operations,migrations}-*.png.

t.setTimeout(150_000)

const h = await startHarness(t)
const second = await startTestCluster(t)
const db2Admin = await second.createAdminRole('tenantd_db2')
await h.app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
const { newPage } = await launchBrowser(t)

const tenant = { name: 'Acme Corp', slug: 'acme', adminEmail: 'owner@acme.test', adminPassword: 'acme-admin-pass' }
const acme = await h.provision(tenant)
await installModule(h, tenant.slug, 'price-basket')
const client = await tenantClient(h, tenant.slug, tenant.adminEmail, tenant.adminPassword)
const supplier = await client.request('POST', '/api/price-basket/suppliers', { name: 'Fornecedor antes do backup' })
if (supplier.statusCode !== 201) throw new Error(supplier.body)
const supplierId: string = supplier.json().id
// An earlier backup, so the panel has a history to chart.
const earlier = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${tenant.slug}/backups?wait=true` })
if (earlier.statusCode !== 201) throw new Error(earlier.body)

const tenantRow = async (slug: string) => (await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}` })).json()

async function signIn(page: Page, next: string): Promise<void> {
  await page.goto(`${base}${next}`)
  await page.getByLabel('Email').fill(h.superAdmin.email)
  await page.getByLabel('Password').fill(h.superAdmin.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${base}${next}`)
}

/** Every step name the live progress of the next operation shows, recorded in the page as it changes. */
async function recordSteps(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { __steps: string[] }).__steps = seen
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[aria-labelledby="moves-title"] .operation-step')) {
        const text = el.textContent ?? ''
        if (seen[seen.length - 1] !== text) seen.push(text)
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
  return () => page.evaluate(() => (window as unknown as { __steps: string[] }).__steps)
}

t.test("a tenant's backups, restore, clone, move, rollback, credentials and domains from the panel", async (t) => {
  const { page, errors } = await newPage({ viewport: { width: 1280, height: 900 } })

  // Register db2 through the hosts page's form.
  await signIn(page, '/panel/hosts')
  await page.getByRole('heading', { name: 'Database hosts', level: 1 }).waitFor()
  await page.getByRole('button', { name: 'Register host' }).click()
  const form = page.getByRole('form', { name: 'Register a database host' })
  await form.getByRole('button', { name: 'Register host' }).click()
  await form.getByText('Name the host, e.g. db2.').waitFor()
  await form.getByLabel('Name').fill('db2')
  await form.getByLabel('Address').fill('127.0.0.1')
  await form.getByLabel('Port').fill(String(second.port))
  await form.getByLabel('Admin role').fill(db2Admin.user)
  t.equal(await form.getByLabel('Admin password').getAttribute('type'), 'password', 'the admin password is a password field')
  await form.getByLabel('Admin password').fill(db2Admin.password)
  await form.getByRole('button', { name: 'Register host' }).click()
  await page.getByText('db2 is registered').waitFor()
  await page.locator('tr[data-host="db2"]').getByText('Active').waitFor()
  await page.locator('tr[data-host="db2"]').getByRole('meter', { name: 'db2 connections' }).waitFor()
  t.notOk((await page.content()).includes(db2Admin.password), 'the admin password is not echoed anywhere on the page')

  await page.goto(`${base}/panel/tenants/${tenant.slug}`)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()

  // Back up now, see it verified, then verify it again.
  const backups = page.getByRole('region', { name: 'Backups' }).first()
  await backups.getByRole('button', { name: 'Back up now' }).click()
  await backups.getByText('Backed up, stored and verified.').waitFor({ timeout: 60_000 })
  await backups.getByRole('table').getByText('verified', { exact: true }).first().waitFor()
  const chart = backups.getByRole('img', { name: /^Sizes of the last 2 backups, oldest to newest/ })
  await chart.waitFor()
  t.equal(await chart.locator('rect').count(), 2, 'the chart has a bar per backup')
  t.equal(await page.locator('[style]').count() - (await page.locator('.capacity-fill').count()), 0, 'no style attribute besides the capacity bars')
  await backups.getByRole('button', { name: /^Verify the backup of/ }).first().click()
  await backups.getByText(/was read back and verified/).waitFor()

  // The tenants table, sorted by last backup (by the list route): this tenant first, verified.
  await page.goto(`${base}/panel/tenants?sort=lastBackup`)
  const firstRow = page.getByRole('region', { name: 'Tenants' }).locator('tbody tr').first()
  await firstRow.getByText(tenant.name).waitFor()
  t.match(await firstRow.innerText(), /price-basket[\s\S]*verified/i, 'with its modules and its verified last backup')
  await page.goto(`${base}/panel/tenants/${tenant.slug}`)

  // A row deleted after the backup comes back with the restore.
  const deleted = await client.request('DELETE', `/api/price-basket/suppliers/${supplierId}`)
  t.equal(deleted.statusCode, 204, 'the supplier is deleted after the backup')
  await backups.getByRole('button', { name: /^Restore the backup of/ }).first().click()
  const restore = page.getByRole('dialog', { name: `Restore ${tenant.name}?` })
  await restore.getByText(/answers 503/).waitFor()
  const restoreButton = restore.getByRole('button', { name: 'Restore' })
  t.ok(await restoreButton.isDisabled(), 'Restore waits for the slug to be typed')
  await restore.getByLabel(/Type .* to confirm/).fill(tenant.slug)
  await restoreButton.click()
  await backups.getByRole('progressbar').waitFor()
  await backups.getByText(/Restored the backup of .*row counts matched/).waitFor({ timeout: 60_000 })
  const back = await client.request('GET', `/api/price-basket/suppliers/${supplierId}`)
  t.equal(back.statusCode, 200, 'the deleted supplier is back after the restore')
  t.equal(back.json().name, 'Fornecedor antes do backup')
  await backups.getByRole('button', { name: 'Undo last restore' }).waitFor()
  await backups.getByText(/Last restore .*: the database it replaced is kept until .*, so it can be undone until then\./).waitFor()
  // Undo swaps the database from before the restore back in (the supplier is gone again); undoing the undo brings the restore back.
  for (const expected of [404, 200]) {
    await backups.getByRole('button', { name: 'Undo last restore' }).click()
    const dialog = page.getByRole('dialog', { name: `Undo the last restore of ${tenant.name}?` })
    await dialog.getByLabel(/Type .* to confirm/).fill(tenant.slug)
    await dialog.getByRole('button', { name: 'Undo restore' }).click()
    await dialog.waitFor({ state: 'detached' })
    const status = await waitFor(`the supplier to answer ${expected}`, async () => {
      const answer = (await client.request('GET', `/api/price-basket/suppliers/${supplierId}`)).statusCode
      return answer === expected ? answer : undefined
    })
    t.equal(status, expected, expected === 404 ? 'undone: the database from before the restore' : 'undone again: the restored database')
    await backups.getByText(/The last restore was undone/).waitFor({ timeout: 60_000 })
    await backups.getByRole('button', { name: 'Undo last restore' }).waitFor()
  }

  // Clone the backup as a new tenant, and open it.
  await backups.getByRole('button', { name: /^Clone the backup of/ }).first().click()
  const clone = page.getByRole('dialog', { name: `Clone ${tenant.name} as a new tenant` })
  await clone.getByLabel('Slug').fill('acme-staging')
  await clone.getByLabel('Subdomain').fill('acme-staging')
  await clone.getByRole('button', { name: 'Clone' }).click()
  await backups.getByText(/Acme Corp \(copy\) is active/).waitFor({ timeout: 60_000 })
  t.equal((await tenantRow('acme-staging')).status, 'active', 'the clone is active')

  // Move to db2 with live progress, and see the tenant there.
  const moves = page.getByRole('region', { name: 'Host and moves' })
  await moves.getByText('Never moved.').waitFor()
  const steps = await recordSteps(page)
  await moves.getByRole('button', { name: 'Move to another host' }).click()
  const move = page.getByRole('dialog', { name: `Move ${tenant.name} to another host?` })
  const db2 = ((await h.asAdmin({ method: 'GET', url: '/api/admin/hosts' })).json().items as Array<{ id: string; name: string }>).find((host) => host.name === 'db2')!
  await move.getByLabel('Target host').selectOption(db2.id)
  await move.getByRole('button', { name: 'Move' }).click()
  await moves.getByRole('progressbar').waitFor()
  await moves.getByText(/now on db2 by (logical|frozen-copy)/).waitFor({ timeout: 60_000 })
  const seen = await steps()
  t.ok(seen.filter((s) => s.startsWith('Step: ')).length >= 2, `the progress showed the steps as they ran: ${seen.join(' → ')}`)
  t.equal(seen[seen.length - 1], 'Done')
  t.equal((await tenantRow(tenant.slug)).hostName, 'db2', 'the tenant lives on db2')
  await page.getByRole('region', { name: 'Details' }).getByText('db2', { exact: true }).waitFor()
  const movedRow = moves.getByRole('table').getByRole('row').nth(1)
  await movedRow.getByText('test-host → db2').waitFor()
  await movedRow.getByText('Kept').waitFor()
  t.match(await movedRow.textContent(), /\d+ ms/, 'the freeze is shown')

  // Roll the move back.
  await moves.getByRole('button', { name: 'Roll back last move' }).click()
  await page.getByRole('dialog', { name: `Roll back the move of ${tenant.name}?` }).getByRole('button', { name: 'Roll back' }).click()
  await moves.getByText(/Rolled back: now on test-host/).waitFor({ timeout: 60_000 })
  t.equal((await tenantRow(tenant.slug)).hostName, 'test-host', 'the tenant is back on the first host')
  await moves.getByRole('table').getByText('Rolled back').waitFor()
  t.equal((await client.request('GET', `/api/price-basket/suppliers/${supplierId}`)).statusCode, 200, 'its data came along both ways')

  // Rotate credentials.
  const credentials = page.getByRole('region', { name: 'Database credentials' })
  await credentials.getByText(/Never rotated/).waitFor()
  await credentials.getByRole('button', { name: 'Rotate credentials' }).click()
  await page.getByRole('dialog', { name: `Rotate the credentials of ${tenant.name}?` }).getByRole('button', { name: 'Rotate' }).click()
  await credentials.getByText(/^Rotated .*old one no longer logs in/).waitFor({ timeout: 60_000 })
  t.equal((await client.request('GET', `/api/price-basket/suppliers/${supplierId}`)).statusCode, 200, 'the tenant still answers after the rotation')

  // Custom domains: a refused name shows the API's message under the field; a good one is pending.
  const domains = page.getByRole('region', { name: 'Custom domains' }).first()
  await domains.getByText('No custom domains.').waitFor()
  await domains.getByLabel('Domain').fill('localhost')
  await domains.getByRole('button', { name: 'Add domain' }).click()
  const fieldError = domains.locator('#field-domain-error')
  await fieldError.waitFor()
  t.match(await fieldError.textContent(), /\S{10,}/, `the API's message is shown inline: ${await fieldError.textContent()}`)
  t.equal(await domains.getByLabel('Domain').getAttribute('aria-invalid'), 'true')
  t.ok(errors.length > 0 && errors.every((e) => /status of 400/.test(e)), `only the refused name's 400 was logged: ${errors.join(' | ')}`)
  errors.splice(0)
  await domains.getByLabel('Domain').fill('portal.acme-corp.test')
  await domains.getByRole('button', { name: 'Add domain' }).click()
  await domains.getByText(/portal\.acme-corp\.test added, pending/).waitFor()
  const domainRow = page.locator('tr[data-domain="portal.acme-corp.test"]')
  await domainRow.getByText('Pending').waitFor()
  await domainRow.getByText('/.well-known/tenantd/', { exact: false }).waitFor()

  // Each of these is in the tenant's audit trail.
  const audit = page.getByRole('region', { name: 'Audit trail' }).first()
  const actions = [
    'backup.run',
    'backup.verify',
    'backup.restore',
    'tenant.restored',
    'tenant.move_requested',
    'tenant.moved',
    'tenant.move_rollback_requested',
    'tenant.move_rolled_back',
    'tenant.credentials_rotation_requested',
    'tenant.credentials_rotated',
    'domain.add',
  ]
  for (const action of actions) await audit.getByText(action, { exact: true }).first().waitFor()
  t.pass(`in the audit trail: ${actions.join(', ')}`)

  // The clone's page is reached from the notice, and its audit trail names the clone.
  await backups.getByRole('link', { name: 'Open Acme Corp (copy)' }).click()
  await page.waitForURL(`${base}/panel/tenants/acme-staging`)
  await page.getByRole('heading', { name: 'Acme Corp (copy)', level: 1 }).getByText('Active').waitFor()
  await page.getByRole('region', { name: 'Audit trail' }).first().getByText('tenant.clone', { exact: true }).waitFor()

  // Drain db2 moving its tenant (the clone, moved there first) off, followed live, then the result per tenant.
  const moved = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme-staging/move?wait=true', payload: { targetHostId: db2.id } })
  t.equal(moved.statusCode, 200, moved.statusCode === 200 ? 'the clone is on db2' : moved.body)
  await page.getByRole('link', { name: 'Hosts' }).click()
  await page.getByRole('heading', { name: 'Database hosts', level: 1 }).waitFor()
  await page.getByRole('button', { name: 'Drain db2' }).click()
  const drain = page.getByRole('dialog', { name: 'Drain db2?' })
  t.notOk(await drain.getByLabel(/Move its tenants off/).isChecked(), 'moving tenants off is opt-in')
  await drain.getByLabel(/Move its tenants off/).check()
  // What the dialog shows while the drain runs, recorded as it changes (the drain may be quick).
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { __drain: string[] }).__drain = seen
    new MutationObserver(() => {
      const text = document.querySelector('dialog .card-inset')?.textContent ?? ''
      if (text && seen[seen.length - 1] !== text) seen.push(text)
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
  const drainSteps = () => page.evaluate(() => (window as unknown as { __drain: string[] }).__drain)
  await drain.getByRole('button', { name: 'Drain and move tenants' }).click()
  const summary = page.getByRole('region', { name: 'Drain of db2' })
  await summary.getByText(/1 moved, 0 failed, 0 skipped; 0 tenants left on it/).waitFor({ timeout: 90_000 })
  const shown = await drainSteps()
  t.ok(shown.some((line) => /0 of 1 tenants moved off db2 so far/.test(line)), `the dialog showed the drain's progress while it ran: ${shown.slice(0, 3).join(' | ')}`)
  await summary.locator('tr').filter({ hasText: 'acme-staging' }).getByText(/moved/i).first().waitFor()
  await page.locator('tr[data-host="db2"]').getByText('Draining').waitFor()

  t.same(errors, [], 'no console errors or uncaught exceptions')
})

t.test('the migrations page shows the matrix, and a dry run shows per-tenant results', async (t) => {
  const { page, errors } = await newPage({ viewport: { width: 1280, height: 900 } })
  await signIn(page, '/panel/migrations')
  await page.getByRole('heading', { name: 'Migrations', level: 1 }).waitFor()
  const matrix = page.getByRole('region', { name: 'Migration matrix' })
  await matrix.locator('tr[data-tenant="acme"]').waitFor()
  t.equal(await matrix.locator('tr[data-tenant="acme"]').getByText('Applied').count(), 2, 'acme has base and price-basket applied')
  await matrix.locator('tr[data-tenant="acme"]').getByText('Not installed').first().waitFor()

  await page.getByRole('button', { name: 'Dry run' }).click()
  const results = page.getByRole('region', { name: 'Results per tenant' })
  await results.locator(`tr[data-tenant="${tenant.slug}"]`).getByText('Succeeded').waitFor({ timeout: 60_000 })
  await results.locator('tr[data-tenant="acme-staging"]').waitFor()
  await page.getByText(/Dry run of .*: \d+ tenants, \d+ succeeded, 0 failed/).waitFor()
  await page.getByRole('region', { name: 'Recent runs' }).getByText('dry run').waitFor()
  t.same(errors, [], 'no console errors')
})

t.test('axe finds no serious or critical violations on the pages this file covers', async (t) => {
  const { page, errors } = await newPage({ bypassCSP: true, viewport: { width: 1280, height: 900 } })
  const check = async (name: string) => {
    t.same(await seriousAxeViolations(page), [], `${name}: no serious or critical violations`)
  }
  const settled = async () => {
    while ((await page.locator('.loading').count()) > 0) await page.locator('.loading').first().waitFor({ state: 'detached' })
  }

  await signIn(page, `/panel/tenants/${tenant.slug}`)
  await page.getByRole('heading', { name: tenant.name, level: 1 }).waitFor()
  await page.getByRole('region', { name: 'Moves', exact: true }).waitFor()
  await settled()
  await check("a tenant's page with backups, chart, moves, domains and credentials")
  await page.getByRole('button', { name: /^Restore the backup of/ }).first().click()
  await page.getByRole('dialog', { name: `Restore ${tenant.name}?` }).waitFor()
  await check('the restore dialog')
  await page.keyboard.press('Escape')
  await page.getByRole('button', { name: /^Clone the backup of/ }).first().click()
  await page.getByRole('dialog', { name: `Clone ${tenant.name} as a new tenant` }).waitFor()
  await check('the clone dialog')
  await page.keyboard.press('Escape')

  await page.goto(`${base}/panel/hosts`)
  await page.getByRole('heading', { name: 'Database hosts', level: 1 }).waitFor()
  await page.getByRole('button', { name: 'Register host' }).click()
  await page.getByRole('form', { name: 'Register a database host' }).waitFor()
  await settled()
  await check('the hosts page with the register form')
  await page.getByRole('button', { name: 'Drain test-host' }).click()
  await page.getByRole('dialog', { name: 'Drain test-host?' }).getByLabel(/Move its tenants off/).check()
  await check('the drain dialog')
  await page.keyboard.press('Escape')

  await page.goto(`${base}/panel/migrations`)
  await page.getByRole('heading', { name: 'Migrations', level: 1 }).waitFor()
  await page.getByRole('region', { name: 'Migration matrix' }).waitFor()
  await settled()
  await check('the migrations page')

  await page.goto(`${base}/panel/operations`)
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor()
  await settled()
  await check('the operations page')
  t.same(errors, [], 'no console errors')
  t.ok(acme.id, 'the tenant was provisioned')
})

t.test('screenshots for the README', { skip: process.env.TENANTD_PANEL_SCREENSHOTS === '1' ? false : 'set TENANTD_PANEL_SCREENSHOTS=1 to write docs/panel/*.png' }, async (t) => {
  const dir = path.resolve(import.meta.dirname, '../../docs/panel')
  await mkdir(dir, { recursive: true })
  const shots: Array<[string, string, string]> = [
    ['tenant-operations', `/panel/tenants/${tenant.slug}`, tenant.name],
    ['migrations', '/panel/migrations', 'Migrations'],
  ]
  const sizes = [
    ['laptop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const
  for (const [size, viewport] of sizes) {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await newPage({ viewport, colorScheme })
      await signIn(page, '/panel/migrations')
      for (const [name, url, heading] of shots) {
        await page.goto(base + url)
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
        while ((await page.locator('.loading').count()) > 0) await page.locator('.loading').first().waitFor({ state: 'detached' })
        await page.screenshot({ path: path.join(dir, `${name}-${size}${colorScheme === 'dark' ? '-dark' : ''}.png`), fullPage: true })
      }
    }
  }
  t.pass(`screenshots written to ${dir}`)
})
