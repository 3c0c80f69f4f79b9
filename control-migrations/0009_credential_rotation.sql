-- Credential rotation (issue 9 item 4). PostgreSQL keeps one password per role, so a tenant
-- gets two login roles that take turns (<role_name>_a, <role_name>_b): both are members of
-- the tenant's owner role (role_name, which keeps owning the database and every object) and
-- start each session as it (ALTER ROLE ... SET role). A rotation readies the idle one with a
-- new password, switches the catalog to it, waits for the old one's sessions to drain on
-- every replica, then takes the old one's login away.
--
-- Tenants provisioned before this migration (and new ones, until their first rotation) log
-- in as the owner role itself: login_role null means role_name, so nothing changes for
-- them until they rotate.
alter table tenants
  -- The role pools and tools log in as; null: role_name. password_sealed is its password.
  add column login_role text,
  -- A rotation under way: the login role being readied and its new password (sealed).
  add column pending_login_role text,
  add column pending_password_sealed text,
  -- After the switch, until its sessions drained and its login was taken away.
  add column previous_login_role text,
  -- When the catalog switched to the current credential (null: never rotated, see created_at).
  add column credentials_rotated_at timestamptz,
  -- Set by the replica that enqueued a scheduled rotation, so one replica does it once.
  add column credentials_rotation_claimed_at timestamptz;

-- Scheduled rotation per plan: every N days; null never.
alter table plans
  add column credential_rotation_days integer check (credential_rotation_days is null or credential_rotation_days >= 1);
