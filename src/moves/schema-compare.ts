import type pg from 'pg'
import { moveSchema } from './table-copy.js'

/** Each schema object of a tenant database (columns, indexes, constraints, ...) → its definition. */
export type SchemaDescription = Map<string, string>

/**
 * What the tenant's schema is made of, object by object, as definitions that read the same on
 * any host (names, types and expressions; never OIDs, owners or grants). Names are printed with
 * their schema: the session's search_path is set to pg_catalog for the query and restored after.
 * tenantd's own bookkeeping schema on a move's target is left out.
 *
 * Logical decoding carries rows, not DDL: an index or column added on the source while a move
 * copies (a fleet migration, the tenant's own code) would otherwise be missing on the target,
 * unnoticed. The cutover compares both sides with this.
 */
export async function describeSchema(client: pg.ClientBase): Promise<SchemaDescription> {
  const { rows: saved } = await client.query<{ path: string }>(`select current_setting('search_path') as path`)
  await client.query(`select set_config('search_path', 'pg_catalog', false)`)
  try {
    const { rows } = await client.query<{ object: string; definition: string }>(
      `with schemas as (
         select oid, nspname from pg_namespace
          where nspname not in ('pg_catalog', 'information_schema', $1) and nspname not like 'pg_toast%' and nspname not like 'pg_temp%'
       ), rels as (
         select c.oid, c.relkind, c.relname, s.nspname, format('%I.%I', s.nspname, c.relname) as name
           from pg_class c join schemas s on s.oid = c.relnamespace
       )
       select 'column ' || r.name || '.' || quote_ident(a.attname) as object,
              format_type(a.atttypid, a.atttypmod)
                || case when a.attnotnull then ' not null' else '' end
                || case when a.attidentity <> '' then ' identity ' || a.attidentity::text else '' end
                || case when a.attgenerated <> '' then ' generated' else '' end
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as definition
         from rels r
         join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
         left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where r.relkind in ('r', 'p', 'v', 'm', 'f')
       union all
       select 'index ' || r.name, pg_get_indexdef(r.oid) from rels r where r.relkind in ('i', 'I')
       union all
       select 'constraint ' || r.name || '.' || quote_ident(con.conname), pg_get_constraintdef(con.oid)
         from pg_constraint con join rels r on r.oid = con.conrelid
       union all
       select 'trigger ' || r.name || '.' || quote_ident(tg.tgname), pg_get_triggerdef(tg.oid)
         from pg_trigger tg join rels r on r.oid = tg.tgrelid where not tg.tgisinternal
       union all
       select 'view ' || r.name, pg_get_viewdef(r.oid) from rels r where r.relkind in ('v', 'm')
       union all
       select 'sequence ' || r.name, '' from rels r where r.relkind = 'S'
       union all
       select 'function ' || p.oid::regprocedure::text, md5(coalesce(p.prosrc, '') || pg_get_function_result(p.oid))
         from pg_proc p join schemas s on s.oid = p.pronamespace
       union all
       select 'type ' || format('%I.%I', s.nspname, ty.typname),
              ty.typtype::text || coalesce(' ' || (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = ty.oid), '')
         from pg_type ty join schemas s on s.oid = ty.typnamespace
        where ty.typtype in ('e', 'd') or (ty.typtype = 'c' and exists (select 1 from pg_class c where c.oid = ty.typrelid and c.relkind = 'c'))`,
      [moveSchema]
    )
    return new Map(rows.map((row) => [row.object, row.definition]))
  } finally {
    await client.query(`select set_config('search_path', $1, false)`, [saved[0]!.path])
  }
}

/** The objects that differ between two schema descriptions, as lines a person reads (at most `limit`). */
export function schemaDifferences(source: SchemaDescription, target: SchemaDescription, limit = 5): string[] {
  const differences: string[] = []
  for (const [object, definition] of source) {
    if (differences.length >= limit) return differences
    if (!target.has(object)) differences.push(`${object}: only on the source`)
    else if (target.get(object) !== definition) differences.push(`${object}: differs (source: ${definition.slice(0, 120)}; target: ${target.get(object)!.slice(0, 120)})`)
  }
  for (const object of target.keys()) {
    if (differences.length >= limit) return differences
    if (!source.has(object)) differences.push(`${object}: only on the target`)
  }
  return differences
}
