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
  /** Makes the temporary file's content durable (fsync); commit() waits for it. Started early, it overlaps Caddy's load of the file. */
  flush(): Promise<void>
  /** Flushes, then renames the render over the Caddyfile. */
  commit(): Promise<void>
  /** Deletes the temporary file; the Caddyfile is untouched. */
  discard(): Promise<void>
}

/** The Caddyfile's content, or null when there is none yet. */
export function readCaddyfile(file: string): Promise<string | null> {
  return readFile(file, 'utf8').catch(() => null)
}

/**
 * Puts a render in a temporary file in the Caddyfile's directory, so it can be
 * checked — by `caddy validate`, or by Caddy itself loading it — before `commit()` renames it
 * over the good file. Rename is atomic within a directory, so a reader (Caddy, an operator,
 * another replica) sees the old file or the new one, never half of one. `current` is what the
 * Caddyfile holds now (readCaddyfile, read under the edge lock): equal to `content`, nothing
 * is staged.
 *
 * @example
 *   const staged = await stageCaddyfile('/var/lib/tenantd/Caddyfile', rendered, await readCaddyfile('/var/lib/tenantd/Caddyfile'))
 *   try { await caddy.validate(staged.path) } catch (e) { await staged.discard(); throw e }
 *   await staged.commit()
 */
export async function stageCaddyfile(file: string, content: string, current: string | null): Promise<StagedCaddyfile> {
  const sha256 = createHash('sha256').update(content).digest('hex')
  if (current === content) return { path: file, sha256, changed: false, flush: async () => {}, commit: async () => {}, discard: async () => {} }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const discard = () => rm(temporary, { force: true })
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    // The directory exists but for the very first render: made only when missing.
    handle = await open(temporary, 'wx', 0o644).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
      await mkdir(path.dirname(file), { recursive: true })
      return open(temporary, 'wx', 0o644)
    })
    await handle.writeFile(content)
  } catch (error) {
    await handle?.close().catch(() => {})
    await discard()
    throw error
  }
  const opened = handle
  let flushed: Promise<void> | undefined
  // The fsync runs once, whoever asks first; the handle is closed after it either way.
  const flush = () =>
    (flushed ??= opened.sync().finally(() => opened.close().catch(() => {})))
  return {
    path: temporary,
    sha256,
    changed: true,
    flush,
    async discard() {
      await flush().catch(() => {})
      await discard()
    },
    async commit() {
      // The content is on disk before the name points at it: after a crash the Caddyfile is
      // the old render or the new one, never an empty file. The rename itself is not fsynced:
      // losing it in a crash leaves the previous (complete) render, and every start renders
      // the catalog's state again before serving.
      await flush()
      await rename(temporary, file)
    },
  }
}
