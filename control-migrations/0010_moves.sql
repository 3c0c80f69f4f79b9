-- Moves of a tenant's database to another db host (issue 9). One row per move that switched the
-- catalog: where the tenant came from and went to, how changes made during the copy were
-- captured, and the source database kept (renamed, closed to connections) for rollback until
-- the cleanup drops it.
create table tenant_moves (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id),
  operation_id uuid references operations (id),
  source_host_id uuid not null references db_hosts (id),
  target_host_id uuid not null references db_hosts (id),
  -- 'logical' (logical decoding on the source) or 'frozen-copy' (everything copied under the freeze).
  method text not null check (method in ('logical', 'frozen-copy')),
  method_reason text,
  database_name text not null,
  -- The source database, renamed on the source host, kept for `tenantctl move --rollback`.
  kept_database text not null,
  state text not null default 'kept' check (state in ('kept', 'rolled_back', 'dropped')),
  moved_at timestamptz not null default now(),
  freeze_ms integer,
  rollback_until timestamptz not null,
  rolled_back_at timestamptz,
  dropped_at timestamptz
);
create index tenant_moves_tenant on tenant_moves (tenant_id, moved_at desc);
create index tenant_moves_kept on tenant_moves (rollback_until) where state = 'kept';
