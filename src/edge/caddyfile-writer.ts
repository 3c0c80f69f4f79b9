import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'

/** A render waiting next to the Caddyfile, complete and fsynced, not yet in its place. */
export interface StagedCaddyfile {
  /** The temporary file (or the Caddyfile itself when it already holds this render). */
  path: string
  sha256: string
  /** False when the Caddyfile already holds exactly this render: commit and discard do nothing. */
  changed: boolean
  /** Renames the render over the Caddyfile and makes the rename durable. */
  commit(): Promise<void>
  /** Deletes the temporary file; the Caddyfile is untouched. */
  discard(): Promise<void>
}

/**
 * Puts a render in a temporary file in the Caddyfile's directory (fsynced), so it can be
 * checked — by `caddy validate`, or by Caddy itself loading it — before `commit()` renames it
 * over the good file. Rename is atomic within a directory, so a reader (Caddy, an operator,
 * another replica) sees the old file or the new one, never half of one.
 *
 * @example
 *   const staged = await stageCaddyfile('/var/lib/tenantd/Caddyfile', rendered)
 *   try { await caddy.validate(staged.path) } catch (e) { await staged.discard(); throw e }
 *   await staged.commit()
 */
export async function stageCaddyfile(file: string, content: string): Promise<StagedCaddyfile> {
  const sha256 = createHash('sha256').update(content).digest('hex')
  const current = await readFile(file, 'utf8').catch(() => undefined)
  if (current === content) return { path: file, sha256, changed: false, commit: async () => {}, discard: async () => {} }
  await mkdir(path.dirname(file), { recursive: true })
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const discard = () => rm(temporary, { force: true })
  try {
    const handle = await open(temporary, 'wx', 0o644)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (error) {
    await discard()
    throw error
  }
  return {
    path: temporary,
    sha256,
    changed: true,
    discard,
    async commit() {
      await rename(temporary, file)
      // The rename itself is durable once the directory is.
      const dir = await open(path.dirname(file), 'r')
      await dir.sync().catch(() => {})
      await dir.close()
    },
  }
}
