-- A logo change is a tenant change: every replica's directory reloads the tenant, whose record
-- carries the logo's checksum (the public /api/tenants/current answers from it, no query).
create function tenant_logos_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantd_tenant_changed', coalesce(new.tenant_id, old.tenant_id)::text);
  return null;
end $$;
create trigger tenant_logos_changed after insert or update or delete on tenant_logos
  for each row execute function tenant_logos_notify_change();
