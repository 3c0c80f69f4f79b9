-- Run as a PostgreSQL superuser on every db host tenantd places tenants on
-- (psql -v tenantd_password="'...'" -f deploy/db-host-role.sql).
-- tenantd's role needs CREATEDB and CREATEROLE to create one database and one login role per
-- tenant; it is NOT a superuser (DESIGN.md decision 3). The password never goes on a command
-- line of tenantd's: it is given once to `tenantctl hosts add --admin-password-stdin` and
-- stored sealed in the catalog.
CREATE ROLE tenantd LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD :tenantd_password;

-- On the host that holds the catalog only (DATABASE_URL=postgres://tenantd:...@host/tenantd):
CREATE DATABASE tenantd OWNER tenantd;

-- pg_hba.conf: let tenantd's replicas in with SCRAM (adjust the network), then reload:
--   host  all  tenantd      10.0.0.0/24  scram-sha-256
--   host  all  all          10.0.0.0/24  scram-sha-256   # tenant roles, from tenantd and your apps
-- Each tenant database is owned by its own role and has CONNECT revoked from PUBLIC, so a
-- tenant's role cannot open another tenant's database even though pg_hba lets it try.
