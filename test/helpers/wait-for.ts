/**
 * Polls until `check` returns a value other than undefined, and returns it; fails after the
 * deadline naming what it waited for. Tests wait for conditions this way, never for fixed times.
 *
 * @example
 *   const status = await waitFor('the edge to catch up', async () => ((await edge.status()).upToDate ? true : undefined))
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
