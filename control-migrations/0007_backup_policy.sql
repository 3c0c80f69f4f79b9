-- Backup policy per plan (issue 8): when the scheduler backs a tenant up, how long and how
-- many backups are kept (grandfather-father-son), and how often a backup is test-restored.
-- A null schedule means the global TENANTD_BACKUP_SCHEDULE (default daily 02:00).
alter table plans
  add column backup_schedule text,
  add column backup_retention_days integer not null default 30 check (backup_retention_days >= 1),
  add column backup_keep_daily integer not null default 7 check (backup_keep_daily >= 0),
  add column backup_keep_weekly integer not null default 4 check (backup_keep_weekly >= 0),
  add column backup_keep_monthly integer not null default 12 check (backup_keep_monthly >= 0);

-- Why a backup exists: asked for, taken by the schedule, the final one before a hard delete.
alter table backups
  add column reason text not null default 'manual' check (reason in ('manual', 'scheduled', 'final')),
  -- When the file was deleted by retention (state 'pruned').
  add column pruned_at timestamptz,
  -- The last test restore into a scratch database: when, and whether the row counts matched.
  add column test_restored_at timestamptz,
  add column test_restore_error text,
  -- The scheduled slot a 'scheduled' backup belongs to (backup_slots.slot_at).
  add column slot_at timestamptz;
create index backups_slot on backups (slot_at, tenant_id) where slot_at is not null;

-- One row per scheduled slot (a schedule's fire time): the replica that inserts it runs it,
-- every other replica's INSERT ... ON CONFLICT DO NOTHING finds it taken. A replica that was
-- down at the slot's time inserts it late (catch-up) when it starts.
create table backup_slots (
  schedule text not null,
  slot_at timestamptz not null,
  claimed_by text not null,
  claimed_at timestamptz not null default now(),
  tenants integer not null default 0,
  -- Written by the replica running the slot; a slot whose heartbeat stopped is taken over.
  heartbeat_at timestamptz not null default now(),
  failed integer not null default 0,
  finished_at timestamptz,
  primary key (schedule, slot_at)
);

-- A tenant frozen for a few seconds (a restore's database swap; later a move's cutover):
-- every replica answers its traffic 503 with Retry-After until this time, or until cleared.
alter table tenants
  add column frozen_until timestamptz,
  add column frozen_reason text;
