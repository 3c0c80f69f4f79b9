import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))
/**
 * Two levels under the checkout, like `src/<folder>/`: the `new URL('../../…', import.meta.url)`
 * paths of src (migrations, Caddyfile.tmpl, panel sources, package.json) resolve the same.
 */
const bundle = path.join(root, '.test-build', 'bin', 'server.mjs')

let built: string | undefined

/**
 * The entry a test spawns as a real tenantd process: `src/server.ts` bundled by esbuild into one
 * ES module (dependencies stay in node_modules), rebuilt when any file under src/ is newer.
 * Starting it costs about a third of the CPU of `node --import tsx src/server.ts`, which the
 * suite otherwise pays again for every replica a crash test kills (docs/decisions.md).
 * Tests of `npm start` itself (copied checkouts) still run the real command.
 */
export function serverBundle(): string {
  if (built) return built
  if (newestMtime(path.join(root, 'src')) >= mtimeOf(bundle)) {
    mkdirSync(path.dirname(bundle), { recursive: true })
    // Parallel test files may build at once: each writes its own file and renames it into place.
    const temporary = `${bundle}.${process.pid}.tmp.mjs`
    buildSync({ entryPoints: [path.join(root, 'src', 'server.ts')], outfile: temporary, bundle: true, platform: 'node', format: 'esm', packages: 'external', target: 'node20', logLevel: 'error' })
    renameSync(temporary, bundle)
  }
  return (built = bundle)
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs
  } catch {
    return 0
  }
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : mtimeOf(full))
  }
  return newest
}
