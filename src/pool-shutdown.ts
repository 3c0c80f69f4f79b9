import type pg from 'pg'

/**
 * Ends a pg.Pool and waits until the last of its sockets has closed. pool.end() resolves as
 * soon as it has asked its clients to end, before their sockets close; a server stopped right
 * after it (the embedded one, on SIGINT) would cut connections still saying goodbye. pg-pool
 * emits 'remove' once a removed client's socket has closed, for every client it holds, idle
 * or checked out (those end when released). At most `timeoutMs` is spent waiting for them.
 * `end` is what ends the pool: pool.end() itself, or the destroy() of a Kysely built on it.
 *
 * @example
 *   await endPool(pool)                      // then stop the server
 *   await endPool(pool, () => db.destroy())  // a Kysely instance over the pool
 */
export async function endPool(pool: pg.Pool, end: () => Promise<void> = () => pool.end(), timeoutMs = 5_000): Promise<void> {
  let left = pool.totalCount
  let timer: NodeJS.Timeout | undefined
  let onRemove: (() => void) | undefined
  const closed = new Promise<void>((resolve) => {
    if (left <= 0) return resolve()
    onRemove = () => {
      if (--left <= 0) resolve()
    }
    pool.on('remove', onRemove)
    timer = setTimeout(resolve, timeoutMs)
    timer.unref()
  })
  try {
    await end()
    await closed
  } finally {
    clearTimeout(timer)
    if (onRemove) pool.off('remove', onRemove)
  }
}
