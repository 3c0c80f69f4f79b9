import type pg from 'pg'
import { Conflict } from '../errors.js'

/** One table of a tenant database, as export and import see it. */
export interface SchemaTable {
  /** "public.<name>" */
  name: string
  table: string
  /** Stored columns in attribute order (generated columns are left out: they are computed). */
  columns: Array<{ name: string; type: string }>
  /** Primary-key columns, in key order; empty when the table has none. */
  primaryKey: string[]
  /** Tables this one references ("public.<name>"), itself excluded. */
  references: string[]
}

export interface TenantSchema {
  /** Every table of the public schema, referenced tables before the tables that reference them. */
  tables: SchemaTable[]
  /** Sequences of the public schema, "public.<name>". */
  sequences: string[]
}

/** Bookkeeping, not data: carried as the export's `migrations` member instead. */
const NOT_DATA = new Set(['public.tenant_migrations'])

/**
 * Reads the tables of a tenant database's public schema in foreign-key dependency order
 * (a topological sort of pg_constraint's foreign keys; ties broken by name), with their
 * columns, primary keys and sequences. A table that references itself is fine; tables that
 * reference each other in a cycle cannot be ordered and are reported (409).
 *
 * @example
 *   const { tables } = await readTenantSchema(client)
 *   tables.map((t) => t.name) // ['public.cp_fornecedores', 'public.cp_orcamentos', 'public.cp_orcamento_itens', ...]
 */
export async function readTenantSchema(client: pg.ClientBase): Promise<TenantSchema> {
  const { rows: tableRows } = await client.query<{ name: string; table: string; columns: Array<{ name: string; type: string }>; pk: string[] | null }>(
    `select 'public.' || c.relname as name, c.relname::text as table,
            coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, null)) order by a.attnum)
                        from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''), '[]') as columns,
            (select array_agg(a.attname::text order by k.ord)
               from pg_index i
               cross join unnest(i.indkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where i.indrelid = c.oid and i.indisprimary) as pk
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      order by c.relname`
  )
  const { rows: fkRows } = await client.query<{ child: string; parent: string }>(
    `select distinct 'public.' || child.relname as child, 'public.' || parent.relname as parent
       from pg_constraint k
       join pg_class child on child.oid = k.conrelid
       join pg_class parent on parent.oid = k.confrelid
       join pg_namespace n on n.oid = child.relnamespace
      where k.contype = 'f' and n.nspname = 'public' and child.oid <> parent.oid`
  )
  const { rows: sequenceRows } = await client.query<{ name: string }>(
    `select 'public.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'S' order by c.relname`
  )
  const tables = new Map<string, SchemaTable>()
  for (const row of tableRows) {
    if (NOT_DATA.has(row.name)) continue
    tables.set(row.name, { name: row.name, table: row.table, columns: row.columns, primaryKey: row.pk ?? [], references: [] })
  }
  for (const { child, parent } of fkRows) {
    if (tables.has(child) && tables.has(parent)) tables.get(child)!.references.push(parent)
  }
  return { tables: dependencyOrder([...tables.values()]), sequences: sequenceRows.map((r) => r.name) }
}

/** Kahn's algorithm: referenced tables first, alphabetical among the ready ones; cycles throw. */
export function dependencyOrder(tables: SchemaTable[]): SchemaTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]))
  const waitingOn = new Map(tables.map((t) => [t.name, new Set(t.references.filter((r) => byName.has(r)))]))
  const ordered: SchemaTable[] = []
  for (;;) {
    const ready = [...waitingOn].filter(([, deps]) => deps.size === 0).map(([name]) => name).sort()
    if (ready.length === 0) break
    for (const name of ready) {
      waitingOn.delete(name)
      ordered.push(byName.get(name)!)
      for (const deps of waitingOn.values()) deps.delete(name)
    }
  }
  if (waitingOn.size > 0) {
    throw new Conflict(`tables reference each other in a cycle (${describeCycle(waitingOn)}), so no load order satisfies their foreign keys; make one of those foreign keys DEFERRABLE or break the cycle before exporting`)
  }
  return ordered
}

/** "public.a -> public.b -> public.a" for one cycle among the tables left over. */
function describeCycle(waitingOn: Map<string, Set<string>>): string {
  let current = [...waitingOn.keys()].sort()[0]!
  const path: string[] = []
  while (!path.includes(current)) {
    path.push(current)
    current = [...waitingOn.get(current)!].sort()[0]!
  }
  return [...path.slice(path.indexOf(current)), current].join(' -> ')
}
