import { access, constants, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`); CI installs it. */
export const chromiumPath = '/usr/bin/chromium'

interface TapLike {
  teardown(fn: () => unknown): void
}

/** A page whose console errors and uncaught exceptions are collected as they happen. */
export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** "console: ..." and "pageerror: ..." lines, in order. */
  errors: string[]
}

export interface TestBrowser {
  browser: Browser
  /** A fresh context (no shared storage) with one watched page; closed with the browser. */
  newPage(options?: BrowserContextOptions): Promise<WatchedPage>
}

/**
 * Launches headless Chromium for a test and closes it on teardown. Fails (never skips) when
 * Chromium is missing, saying how to install it.
 *
 * @example
 *   const { newPage } = await launchBrowser(t)
 *   const { page, errors } = await newPage()
 *   await page.goto(`${base}/panel`)
 *   t.same(errors, [], 'no console errors')
 */
export async function launchBrowser(t: TapLike): Promise<TestBrowser> {
  try {
    await access(chromiumPath, constants.X_OK)
  } catch {
    throw new Error(`Chromium is not installed at ${chromiumPath}: run \`apt-get install chromium\` (the browser tests need it; CI installs it)`)
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.teardown(() => browser.close())
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext(options)
      context.setDefaultTimeout(30_000)
      const page = await context.newPage()
      const errors: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`)
      })
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
      return { page, context, errors }
    },
  }
}

/**
 * The page's title once it reads `expected`, or whatever it reads after `timeoutMs`: the panel
 * sets the title in an effect, a moment after the page (and its heading) has rendered.
 */
export async function titleOf(page: Page, expected: string, timeoutMs = 10_000): Promise<string> {
  await page.waitForFunction((want) => document.title === want, expected, { timeout: timeoutMs }).catch(() => {})
  return page.title()
}

let axeSource: Promise<string> | undefined

/**
 * Runs axe-core on what `page` shows now and describes its serious and critical violations
 * (none: an empty list). The page's context must have been made with `bypassCSP: true`: axe
 * is injected as a script, which the panel's CSP refuses (as it should).
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  await page.evaluate(await axeSource)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> }> }> } }).axe
    const result = await axe.run()
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`)
  })
}
