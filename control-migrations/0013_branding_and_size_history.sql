-- A tenant's logo (issue 10, runbook 003's coat of arms): raster bytes checked by their
-- signature on upload, served back with the type recorded here and never sniffed.
create table tenant_logos (
  tenant_id uuid primary key references tenants (id) on delete cascade,
  content_type text not null check (content_type in ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
  bytes bytea not null,
  sha256 text not null,
  updated_at timestamptz not null default now()
);

-- Database size over time, sampled by one replica each interval (TENANTD_SIZE_SAMPLE_MINUTES),
-- for the panel's size chart and the tenant list's size column.
create table tenant_size_samples (
  tenant_id uuid not null references tenants (id) on delete cascade,
  sampled_at timestamptz not null default now(),
  bytes bigint not null,
  primary key (tenant_id, sampled_at)
);
