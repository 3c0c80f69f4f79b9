-- Modules installed per tenant. The tenant database records the module's applied migrations
-- (tenant_migrations, scope = module name); the catalog records that it is installed, so
-- routing can answer ModuleNotInstalled without touching the tenant database.
create table tenant_modules (
  tenant_id uuid not null references tenants (id) on delete cascade,
  module text not null,
  version text not null,
  installed_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, module)
);

-- A module change is a tenant change: caches on every replica drop the tenant.
create function tenant_modules_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantd_tenant_changed', coalesce(new.tenant_id, old.tenant_id)::text);
  return null;
end $$;
create trigger tenant_modules_changed after insert or update or delete on tenant_modules
  for each row execute function tenant_modules_notify_change();
