import { createHash } from 'node:crypto'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { tenantMigrationsDir } from '../../src/migrations/tenant-migrator.js'
import type { Harness } from '../helpers/harness.js'

/**
 * tenant-migrations/ plus one base migration with the column types an export must carry
 * exactly: identity (GENERATED ALWAYS), a generated column, a self-reference, arrays, jsonb,
 * wide numerics, floats, bytea, timestamps, intervals, and a standalone sequence.
 */
export async function migrationsWithTestTable(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantd-export-migrations-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(tenantMigrationsDir, dir, { recursive: true })
  await writeFile(
    path.join(dir, 'base', '0900_export_notes.sql'),
    `create table if not exists export_notes (
       id bigint generated always as identity primary key,
       author_id uuid references users (id),
       parent_id bigint references export_notes (id),
       body text not null,
       body_length int generated always as (length(body)) stored,
       tags text[] not null default '{}',
       meta jsonb,
       amount numeric(40, 15),
       ratio double precision,
       payload bytea,
       happened_at timestamptz,
       span interval
     );
     create sequence if not exists export_invoice_numbers start 1000;\n`
  )
  return dir
}

/** Fills a tenant: users, settings, price-basket rows, notes with awkward values, sequences moved. */
export async function seedExportTenant(h: Harness, database: string): Promise<void> {
  await h.cluster.query(
    `insert into users (email, name, password_hash, role, permissions)
       select 'user' || i || '@acme.test', 'Usuário ' || i, '$argon2id$v=19$m=65536,t=3,p=4$fake' || i, 'member', '{crm,price-basket}' from generate_series(1, 20) i;
     insert into settings (key, value) values
       ('quotes', '{"text": "a \\"quoted\\" \\\\ back\\nslash", "n": 1.50, "big": 123456789012345678901234567890}'),
       ('unicode', '"ação 東京 🚀"'), ('null', 'null');
     insert into cp_fornecedores (nome, cnpj, email) select 'Fornecedor ' || i, lpad(i::text, 14, '0'), 'f' || i || '@x.test' from generate_series(1, 30) i;
     insert into cp_orcamentos (numero, descricao, fornecedor_id)
       select 'Q-' || i, E'quote\\t' || i, (select id from cp_fornecedores order by nome limit 1) from generate_series(1, 12) i;
     insert into cp_orcamento_itens (orcamento_id, descricao, quantidade, preco_unitario)
       select o.id, 'item ' || g, g + 0.125, g * 1.55 from cp_orcamentos o, generate_series(1, 5) g;
     insert into export_notes (author_id, body, tags, meta, amount, ratio, payload, happened_at, span)
       select (select id from users order by email limit 1), 'note ' || i || E'\\n line two', array['a,b', 'c"d', null, 'e\\\\f'],
              jsonb_build_object('i', i, 'nested', jsonb_build_array(1, 'two', null)), 1234567890123456789012345.123456789012345,
              0.1 + i, decode('00ff10' || lpad(to_hex(i), 2, '0'), 'hex'), timestamptz '2024-02-29 23:59:59.123456+05:30' + i * interval '1 day',
              interval '1 year 2 mons 3 days 04:05:06.789'
         from generate_series(1, 15) i;
     insert into export_notes (parent_id, body) select id, 'reply to ' || id from export_notes where id <= 3;
     insert into export_notes (body, ratio, meta) values ('extremes', 'NaN', '[]'), ('inf', '-Infinity', '{}');
     select nextval('export_invoice_numbers') from generate_series(1, 7);`,
    [],
    database
  )
}

/** Tables the round trip compares, with the key their rows are ordered by. */
export const comparedTables: Record<string, string> = {
  users: 'id',
  settings: 'key',
  cp_fornecedores: 'id',
  cp_orcamentos: 'id',
  cp_orcamento_itens: 'id',
  export_notes: 'id',
}

/** Per table: rows and md5 of every row's text in key order; sequences' state. */
export async function fingerprint(h: Harness, database: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const [table, key] of Object.entries(comparedTables)) {
    const { rows } = await h.cluster.query<{ n: string; md5: string | null }>(
      `select count(*) as n, md5(coalesce(string_agg(t::text, ',' order by ${key}), '')) as md5 from ${table} t`,
      [],
      database
    )
    result[table] = `${rows[0]!.n} rows, md5 ${rows[0]!.md5 ?? ''}`
  }
  for (const sequence of ['export_invoice_numbers', 'export_notes_id_seq']) {
    const { rows } = await h.cluster.query<{ last_value: string; is_called: boolean }>(`select last_value::text, is_called from ${sequence}`, [], database)
    result[sequence] = `${rows[0]!.last_value} ${rows[0]!.is_called}`
  }
  return result
}

export async function databases(h: Harness): Promise<string[]> {
  const { rows } = await h.cluster.query<{ datname: string }>('select datname from pg_database order by 1')
  return rows.map((r) => r.datname)
}

/** The writer's content digest of a document it wrote: everything before the trailer, its line breaks left out. */
export function resealed(document: string, change: (content: string) => string, trailerRows?: (rows: Record<string, number>) => void): string {
  const at = document.lastIndexOf(',"trailer":')
  const trailer = JSON.parse(document.slice(at + ',"trailer":'.length).trimEnd().slice(0, -1)) as { rows: Record<string, number>; sha256: string }
  const content = change(document.slice(0, at).replace(/\n/g, ''))
  trailerRows?.(trailer.rows)
  trailer.sha256 = createHash('sha256').update(content).digest('hex')
  return `${content},"trailer":${JSON.stringify(trailer)}}`
}
