-- Run as a PostgreSQL superuser on every db host tenantd places tenants on
-- (psql -v tenantd_password="'...'" -f deploy/db-host-role.sql).
-- tenantd's role needs CREATEDB and CREATEROLE to create one database and one login role per
-- tenant; it is NOT a superuser (DESIGN.md decision 3). The password never goes on a command
-- line of tenantd's: it is given once to `tenantctl hosts add --admin-password-stdin` and
-- stored sealed in the catalog.
-- REPLICATION lets moves capture the changes made while a tenant's data is copied to another
-- host by logical decoding (a replication slot in the tenant database, read with the built-in
-- test_decoding plugin), so writes are frozen only for the last changes. Without it (or with
-- wal_level below logical) moves still work, but copy the whole database under the freeze.
CREATE ROLE tenantd LOGIN CREATEDB CREATEROLE REPLICATION NOSUPERUSER PASSWORD :tenantd_password;
-- An existing role: ALTER ROLE tenantd REPLICATION;

-- postgresql.conf of a db host that tenants are moved off (restart after changing wal_level):
--   wal_level = logical            -- logical decoding for moves (default: replica)
--   max_replication_slots = 16     -- one per move running from this host
--   max_wal_senders = 16           -- the move's slot is created over a replication connection
-- pg_hba.conf needs nothing more: a logical replication connection matches the database's
-- own lines (not the `replication` keyword), which already let tenantd in.

-- On the host that holds the catalog only (DATABASE_URL=postgres://tenantd:...@host/tenantd):
CREATE DATABASE tenantd OWNER tenantd;

-- pg_hba.conf: let tenantd's replicas in with SCRAM (adjust the network), then reload:
--   host  all  tenantd      10.0.0.0/24  scram-sha-256
--   host  all  all          10.0.0.0/24  scram-sha-256   # tenant roles, from tenantd and your apps
-- Each tenant database is owned by its own role and has CONNECT revoked from PUBLIC, so a
-- tenant's role cannot open another tenant's database even though pg_hba lets it try.
