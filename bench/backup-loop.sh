#!/usr/bin/env bash
# Runbook 003's backup_tenants.sh, as the baseline of `npm run bench:backup`:
# `pg_dump <db> | gzip > <dir>/<db>_<date>.sql.gz`, one database after another.
#
# Everything comes from the environment (the password never in argv):
#   BACKUP_DATABASES  database names, separated by spaces or newlines (required)
#   BACKUP_DIR        where the .sql.gz files go (required; created)
#   PGHOST, PGPORT, PGUSER, and PGPASSWORD or PGPASSFILE   libpq's own variables
#   PG_DUMP           default /usr/lib/postgresql/15/bin/pg_dump
#   GZIP_LEVEL        default 6 (gzip's own default, as the runbook runs it)
#
# Prints one line per database; exits non-zero on the first failure (pipefail: a pg_dump
# that fails half-way fails the loop, not just gzip).
set -euo pipefail

: "${BACKUP_DATABASES:?set BACKUP_DATABASES to the databases to back up}"
: "${BACKUP_DIR:?set BACKUP_DIR to the backup directory}"
PG_DUMP="${PG_DUMP:-/usr/lib/postgresql/15/bin/pg_dump}"
GZIP_LEVEL="${GZIP_LEVEL:-6}"
DATE=$(date +%Y%m%d_%H%M%S)

mkdir -p "$BACKUP_DIR"

for db in $BACKUP_DATABASES; do
    "$PG_DUMP" --no-password "$db" | gzip "-$GZIP_LEVEL" > "$BACKUP_DIR/${db}_${DATE}.sql.gz"
    echo "backed up $db"
done
