-- The edge (Caddy). Routing changes bump one generation counter, in the same transaction as
-- the change, and announce it; each replica's edge syncer renders the Caddyfile only when the
-- generation is newer than the one last applied. The counter is a row, not a sequence: a
-- sequence moves before the change commits, so a render could read the new number with the
-- old rows and then never render again.
create table edge_generation (
  id boolean primary key default true check (id),
  generation bigint not null default 0
);
insert into edge_generation default values;

-- What the edge last did (one row, written by whichever replica holds the edge lock).
create table edge_state (
  id boolean primary key default true check (id),
  rendered_generation bigint not null default 0,
  applied_generation bigint not null default 0,
  file_sha256 text,
  reloads bigint not null default 0,
  last_render_at timestamptz,
  last_reload_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  updated_at timestamptz not null default now()
);
insert into edge_state default values;

create function edge_routing_changed() returns trigger language plpgsql as $$
begin
  update edge_generation set generation = generation + 1;
  perform pg_notify('tenantd_edge_changed', '');
  return null;
end $$;

-- New and removed tenants: once per statement, so a bulk insert bumps once.
create trigger tenants_edge_insert_delete after insert or delete on tenants
  for each statement execute function edge_routing_changed();
-- Only what routes: status, subdomain, purge.
create trigger tenants_edge_update after update of status, subdomain, purged_at on tenants
  for each row when (old.status is distinct from new.status or old.subdomain is distinct from new.subdomain or old.purged_at is distinct from new.purged_at)
  execute function edge_routing_changed();
create trigger tenant_domains_edge after insert or update or delete on tenant_domains
  for each statement execute function edge_routing_changed();
