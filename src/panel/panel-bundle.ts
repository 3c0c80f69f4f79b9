import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** One file of the built panel, served under `/panel/assets/<name>`. */
export interface PanelAsset {
  body: Buffer
  contentType: string
}

/** The built panel: index.html pointing at content-hashed assets, and the assets by file name. */
export interface PanelBundle {
  indexHtml: string
  assets: Map<string, PanelAsset>
}

/** Where the panel's source lives: `panel/` at the root of the checkout. */
export const panelSourceDir = fileURLToPath(new URL('../../panel/', import.meta.url))

/** URL prefix of the hashed assets; index.html names them by their plain names under it. */
export const panelAssetPrefix = '/panel/assets/'

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** Files copied as they are (besides what esbuild bundles). */
const staticFiles = ['icon.svg']

/**
 * Bundles the panel in memory with esbuild: `src/main.tsx` (Preact, TSX) into one minified ES
 * module and `styles.css` into one stylesheet, plus the static files; every file gets a
 * content hash in its name (`app.3f9c2a1b0d.js`), and index.html is rewritten to point at
 * them. Nothing is written to disk and nothing is fetched: the sources and `node_modules`
 * are all it reads.
 *
 * @example
 *   const { indexHtml, assets } = await buildPanel()
 *   assets.get('app.3f9c2a1b0d.js')?.contentType   // 'text/javascript; charset=utf-8'
 */
export async function buildPanel(sourceDir = panelSourceDir): Promise<PanelBundle> {
  const result = await build({
    absWorkingDir: sourceDir,
    entryPoints: { app: 'src/main.tsx', styles: 'styles.css' },
    outdir: 'out',
    entryNames: '[name]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    // Images the stylesheet names (the brand mark) go inline; the CSP allows data: images.
    loader: { '.svg': 'dataurl' },
    write: false,
    logLevel: 'silent',
  })
  const plain: Array<{ name: string; body: Buffer }> = result.outputFiles.map((file) => ({ name: path.basename(file.path), body: Buffer.from(file.contents) }))
  for (const name of staticFiles) plain.push({ name, body: await readFile(path.join(sourceDir, name)) })

  const assets = new Map<string, PanelAsset>()
  const hashedNames = new Map<string, string>()
  for (const { name, body } of plain) {
    const ext = path.extname(name)
    const hashed = `${path.basename(name, ext)}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}${ext}`
    assets.set(hashed, { body, contentType: contentTypes[ext] ?? 'application/octet-stream' })
    hashedNames.set(name, hashed)
  }

  const template = await readFile(path.join(sourceDir, 'index.html'), 'utf8')
  const indexHtml = template.replace(/\/panel\/assets\/([\w.-]+)/g, (whole, name: string) => {
    const hashed = hashedNames.get(name)
    if (!hashed) throw new Error(`panel/index.html names ${whole}, which the build did not produce`)
    return panelAssetPrefix + hashed
  })
  return { indexHtml, assets }
}

let cached: Promise<PanelBundle> | undefined

/**
 * The panel of this process: built on first use, then kept. Concurrent first callers share
 * one build; a failed build is forgotten so the next request tries again.
 */
export function panelBundle(): Promise<PanelBundle> {
  cached ??= buildPanel().catch((error: unknown) => {
    cached = undefined
    throw error
  })
  return cached
}
