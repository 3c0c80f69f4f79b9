-- Custom domains of tenants. A domain is pending until tenantd has fetched its verification
-- token through it (http://<domain>/.well-known/tenantd/<token>), which proves the domain
-- points at this edge; only verified domains route to the tenant.
create table tenant_domains (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null unique check (domain = lower(domain)),
  status text not null default 'pending' check (status in ('pending', 'verified')),
  verification_token text not null,
  verified_at timestamptz,
  last_checked_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tenant_domains_tenant on tenant_domains (tenant_id);

-- A domain change is a tenant change: every replica reloads the tenant's routing keys.
create function tenant_domains_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantd_tenant_changed', coalesce(new.tenant_id, old.tenant_id)::text);
  if tg_op = 'UPDATE' and old.tenant_id is distinct from new.tenant_id then
    perform pg_notify('tenantd_tenant_changed', old.tenant_id::text);
  end if;
  return null;
end $$;
create trigger tenant_domains_changed after insert or update or delete on tenant_domains
  for each row execute function tenant_domains_notify_change();
