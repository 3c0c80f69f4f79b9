import { readdir, readFile } from 'node:fs/promises'
import type { Harness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'

/** Tables whose contents the round trips compare (base + price-basket module). */
export const fingerprintTables = ['users', 'settings', 'cp_fornecedores', 'cp_orcamentos', 'cp_orcamento_itens', 'tenant_migrations'] as const

/** Per table: row count and md5 of every row in primary-key order. */
export async function fingerprint(h: Harness, database: string): Promise<Record<string, { rows: number; md5: string }>> {
  const result: Record<string, { rows: number; md5: string }> = {}
  for (const table of fingerprintTables) {
    const order = table === 'settings' ? 'key' : table === 'tenant_migrations' ? 'scope, name' : 'id'
    const { rows } = await h.cluster.query<{ n: string; md5: string | null }>(
      `select count(*) as n, md5(coalesce(string_agg(t::text, ',' order by ${order}), '')) as md5 from ${table} t`,
      [],
      database
    )
    result[table] = { rows: Number(rows[0]!.n), md5: rows[0]!.md5 ?? '' }
  }
  return result
}

/** Fills a price-basket tenant: suppliers, quotes with items, settings. */
export async function seedTenant(h: Harness, database: string, marker: string): Promise<void> {
  await h.cluster.query(
    `insert into cp_fornecedores (nome, email) select '${marker} fornecedor ' || i, 'f' || i || '@x.test' from generate_series(1, 60) i;
     insert into cp_orcamentos (numero, descricao, fornecedor_id)
       select 'Q-' || i, 'quote ' || i, (select id from cp_fornecedores order by nome limit 1) from generate_series(1, 25) i;
     insert into cp_orcamento_itens (orcamento_id, descricao, quantidade, preco_unitario)
       select o.id, 'item ' || g, g, g * 1.5 from cp_orcamentos o, generate_series(1, 8) g;
     insert into settings (key, value) select 'k' || i, to_jsonb(i) from generate_series(1, 12) i;`,
    [],
    database
  )
}

/** Changes and deletes rows, as a bad deploy or a careless operator would. */
export async function damageData(h: Harness, database: string): Promise<void> {
  await h.cluster.query(
    `delete from cp_orcamento_itens where quantidade > 4;
     delete from cp_fornecedores where id not in (select fornecedor_id from cp_orcamentos where fornecedor_id is not null);
     update settings set value = '"changed"';
     insert into settings (key, value) values ('after-backup', '1');`,
    [],
    database
  )
}

export async function databasesLike(h: Harness, pattern: string): Promise<string[]> {
  const { rows } = await h.cluster.query<{ datname: string }>('select datname from pg_database where datname like $1 order by 1', [pattern])
  return rows.map((r) => r.datname)
}

/** Every file under dir, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => `${e.parentPath ?? (e as unknown as { path: string }).path}/${e.name}`)
}

/**
 * Samples /proc/<pid>/cmdline and environ of running pg_dump processes until stop() is
 * called: what `ps` would show anyone on the machine while a backup runs. A test holds the
 * pg_dump (a lock on one of its tables) until seen() resolves, so a busy machine cannot let
 * it finish between two samples.
 */
export function samplePgDumpProcesses(): { seen(): Promise<void>; stop(): Promise<Array<{ cmdline: string; environ: string }>> } {
  const seen = new Map<string, { cmdline: string; environ: string }>()
  let running = true
  const loop = (async () => {
    while (running) {
      for (const pid of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid) || seen.has(pid)) continue
        const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')
        if (!/pg_dump\s/.test(cmdline) || cmdline.includes('--version')) continue
        const environ = (await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).replace(/\0/g, '\n')
        seen.set(pid, { cmdline, environ })
      }
      await new Promise((r) => setImmediate(r))
    }
  })()
  return {
    async seen() {
      await waitFor('a pg_dump process to be sampled', async () => (seen.size > 0 ? true : undefined))
    },
    async stop() {
      running = false
      await loop
      return [...seen.values()]
    },
  }
}
