-- tenantd catalog: db hosts, plans, tenants, operations, operators, tokens, audit.

create table db_hosts (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  host text not null,
  port integer not null check (port between 1 and 65535),
  admin_user text not null,
  admin_password_sealed text not null,
  admin_database text not null default 'postgres',
  max_tenants integer check (max_tenants is null or max_tenants > 0),
  status text not null default 'active' check (status in ('active', 'draining')),
  is_default boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index db_hosts_one_default on db_hosts (is_default) where is_default;

create table plans (
  id text primary key,
  name text not null,
  -- CONNECTION LIMIT of the tenant's role
  max_connections integer not null,
  -- connections one tenantd process keeps in the tenant's pool
  pool_size integer not null,
  max_users integer,
  storage_mb integer,
  api_calls_per_month integer
);
insert into plans (id, name, max_connections, pool_size, max_users, storage_mb, api_calls_per_month) values
  ('free', 'Free', 5, 2, 5, 500, 100000),
  ('pro', 'Pro', 20, 5, 50, 10240, 5000000),
  ('enterprise', 'Enterprise', 60, 10, null, null, null);

create table tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null,
  subdomain text not null,
  name text not null,
  contact_email text not null,
  plan_id text not null references plans (id),
  status text not null check (status in ('provisioning', 'active', 'suspended', 'canceled', 'deleted', 'failed')),
  status_reason text,
  host_id uuid not null references db_hosts (id),
  database_name text not null,
  role_name text not null,
  password_sealed text not null,
  retention_days integer not null default 30 check (retention_days >= 0),
  canceled_at timestamptz,
  deleted_at timestamptz,
  -- set when the database and role were dropped (hard delete, or a rolled back provision);
  -- the slug and subdomain are free again from then on
  purged_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index tenants_slug_live on tenants (slug) where purged_at is null;
create unique index tenants_subdomain_live on tenants (subdomain) where purged_at is null;
create unique index tenants_database_live on tenants (host_id, database_name) where purged_at is null;
create index tenants_status on tenants (status);
create index tenants_host on tenants (host_id);

create table operations (
  id uuid primary key default gen_random_uuid(),
  kind text not null,
  tenant_id uuid references tenants (id) on delete set null,
  status text not null default 'pending'
    check (status in ('pending', 'running', 'succeeded', 'failed', 'rolled_back')),
  step text,
  progress integer not null default 0 check (progress between 0 and 100),
  -- non-secret parameters only (passwords are hashed or sealed before they get here)
  params jsonb not null default '{}',
  result jsonb,
  error text,
  attempts integer not null default 0,
  claimed_by text,
  heartbeat_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
-- one operation at a time per tenant
create unique index operations_one_active_per_tenant on operations (tenant_id)
  where status in ('pending', 'running');
create index operations_open on operations (status, heartbeat_at) where status in ('pending', 'running');
create index operations_tenant on operations (tenant_id, created_at desc);

create table operators (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text not null default '',
  password_hash text not null,
  role text not null check (role in ('super_admin', 'tenant_admin')),
  tenant_id uuid references tenants (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_login_at timestamptz,
  check ((role = 'tenant_admin') = (tenant_id is not null))
);
create unique index operators_email on operators (lower(email));

-- Refresh tokens of operators and tenant users. Stored hashed; rotation marks the old one
-- spent, and presenting a spent one revokes its whole family.
create table refresh_tokens (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null,
  token_hash text not null unique,
  subject_type text not null check (subject_type in ('operator', 'tenant_user')),
  subject_id uuid not null,
  tenant_id uuid,
  expires_at timestamptz not null,
  spent_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family on refresh_tokens (family_id);

create table login_attempts (
  id bigint generated always as identity primary key,
  identifier text not null,
  tenant_id uuid,
  ip text,
  success boolean not null,
  reason text,
  attempted_at timestamptz not null default now()
);
create index login_attempts_lookup on login_attempts (identifier, tenant_id, attempted_at desc);

create table audit_logs (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  actor_type text not null,
  actor_id uuid,
  actor_email text,
  tenant_id uuid,
  action text not null,
  target text,
  ip text,
  details jsonb not null default '{}'
);
create index audit_logs_tenant on audit_logs (tenant_id, created_at desc);
create index audit_logs_created on audit_logs (created_at desc);

-- The audit log is append-only: no update, no delete, not even by tenantd itself.
create function audit_logs_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_logs is append-only' using errcode = '42501';
end $$;
create trigger audit_logs_no_update before update or delete on audit_logs
  for each row execute function audit_logs_append_only();
create trigger audit_logs_no_truncate before truncate on audit_logs
  for each statement execute function audit_logs_append_only();

-- Cache invalidation across replicas: every change of a tenant row is announced.
create function tenants_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantd_tenant_changed', coalesce(new.id, old.id)::text);
  return null;
end $$;
create trigger tenants_changed after insert or update or delete on tenants
  for each row execute function tenants_notify_change();

create function operations_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantd_operation_changed', json_build_object(
    'id', new.id, 'status', new.status, 'step', new.step, 'progress', new.progress)::text);
  return null;
end $$;
create trigger operations_changed after insert or update on operations
  for each row execute function operations_notify_change();
