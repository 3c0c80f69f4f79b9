-- Fleet-wide tenant migrations: one run fans the tenant migrations out to many tenant
-- databases (operation kind migrate_fleet) and records each tenant's outcome, so a failed
-- run shows which tenants failed and why, and can be retried for exactly those.

create table migration_runs (
  id uuid primary key default gen_random_uuid(),
  operation_id uuid references operations (id) on delete set null,
  -- {tenants?, tenantIds?, concurrency, canary, dryRun, retryFailedOf?}
  options jsonb not null default '{}',
  dry_run boolean not null default false,
  status text not null default 'pending' check (status in ('pending', 'running', 'succeeded', 'failed')),
  -- {total, succeeded, failed, skipped, pending} when the run ended
  totals jsonb not null default '{}',
  error text,
  created_by uuid,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
-- One schema-changing run at a time across every replica (dry runs only read).
create unique index migration_runs_one_open on migration_runs ((true))
  where status in ('pending', 'running') and not dry_run;
create index migration_runs_created on migration_runs (created_at desc);

create table migration_run_tenants (
  run_id uuid not null references migration_runs (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  -- order of the plan: canaries are the first ones
  position integer not null,
  status text not null default 'pending' check (status in ('pending', 'running', 'succeeded', 'failed', 'skipped')),
  -- "scope/file" names: applied by this run, drifted (applied file changed since), and
  -- for dry runs what would be applied
  applied text[] not null default '{}',
  drift text[] not null default '{}',
  pending text[] not null default '{}',
  error text,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (run_id, tenant_id)
);
create index migration_run_tenants_status on migration_run_tenants (run_id, status);

-- How many migration connections a db host takes at once (fan-out is bounded per host).
alter table db_hosts add column connection_budget integer not null default 10 check (connection_budget > 0);
