-- Backups (issue 8). One row per backup file: where it is, what it holds (row counts taken in
-- the dump's own snapshot, migrations applied) and whether it was verified. The file itself
-- carries its sealed data key, so this row is a catalog entry, not the only way to read it.
create table backups (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id),
  operation_id uuid references operations (id),
  host_id uuid not null references db_hosts (id),
  database_name text not null,
  state text not null default 'running'
    check (state in ('running', 'completed', 'verified', 'failed', 'pruned')),
  -- 'file:///var/lib/tenantd/backups' or 's3://bucket/prefix', and the object key under it.
  storage_target text not null,
  storage_key text not null,
  -- Bytes stored (header + encrypted records) and the SHA-256 of exactly those bytes.
  size_bytes bigint,
  sha256 text,
  -- Bytes of the pg_dump -Fc output (the plaintext).
  dump_bytes bigint,
  server_version text,
  pg_dump_version text,
  tenantd_version text not null,
  -- {"public.users": 12, ...} counted in the snapshot pg_dump used.
  row_counts jsonb,
  -- [{"scope": "base", "name": "0001_base.sql"}, ...] from the tenant's tenant_migrations.
  migrations jsonb,
  error text,
  created_by uuid,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  verified_at timestamptz
);
create index backups_tenant_created on backups (tenant_id, created_at desc);

-- Restores that swapped a database in: the previous database is kept, renamed, for undo.
create table backup_restores (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id),
  backup_id uuid not null references backups (id),
  operation_id uuid references operations (id),
  database_name text not null,
  previous_database text not null,
  restored_at timestamptz not null default now(),
  previous_dropped_at timestamptz
);
create index backup_restores_tenant on backup_restores (tenant_id, restored_at desc);
