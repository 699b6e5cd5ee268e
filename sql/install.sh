#!/usr/bin/env bash
# Apply sql/migrations/NNNN_*.sql to a database with psql.
#
#   sql/install.sh [DATABASE_URL]    (default: $DATABASE_URL, then the local server)
#   SCHEMA=jobs sql/install.sh ...  installs into schema jobs (created if missing)
#                                    instead of the first schema on the search_path
#   GOODJOB_MIGRATIONS_DIR overrides the directory (for tests).
#
# Same protocol as goodjob_pg/migrations.py, so both may run at once: each file
# runs in its own transaction that first takes pg_advisory_xact_lock(1735028839, 0)
# and skips the file if its version is already in goodjob_migrations. The file's
# first statement inserts that row itself.
set -euo pipefail

url=${1:-${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}}
dir=$(cd "${GOODJOB_MIGRATIONS_DIR:-$(dirname "$0")/migrations}" && pwd)

psql_() { psql -X -q -v ON_ERROR_STOP=1 -d "$url" "$@"; }

schema=${SCHEMA:-}
if [[ -n $schema ]]; then
    # Same rule as goodjob-pg migrate --schema: a lowercase identifier whose
    # NOTIFY channel goodjob_<schema> fits in 63 bytes.
    if [[ ! $schema =~ ^[a-z_][a-z0-9_]{0,54}$ || $schema == pg_* ]]; then
        echo "bad SCHEMA '$schema': expected a lowercase SQL name (a-z, 0-9, _) of at most 55 characters, not starting with pg_" >&2
        exit 1
    fi
    psql_ -c "set client_min_messages = warning; create schema if not exists \"$schema\""
    # Every session below works in that schema only: the tables, the
    # functions and goodjob_migrations go there.
    export PGOPTIONS="${PGOPTIONS:-} -c search_path=\"$schema\""
fi

version_num=$(psql_ -At -c "select current_setting('server_version_num')")
if (( version_num < 130000 )); then
    echo "goodjob-pg needs PostgreSQL 13 or newer; this server is $(psql_ -At -c 'show server_version')" >&2
    exit 1
fi

for file in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
    [[ -e $file ]] || continue
    name=$(basename "$file" .sql)
    if [[ ! $name =~ ^[0-9]{4}_[a-z0-9_]+$ ]]; then
        echo "bad migration file name $name.sql: expected NNNN_description.sql" >&2
        exit 1
    fi
    # Run from the migrations directory so \i gets a plain file name.
    (cd "$dir" && psql_ --single-transaction -v version="${name%%_*}" -v name="$name" -f - <<'SQL'
set client_min_messages = warning;
select pg_advisory_xact_lock(1735028839, 0) \gset
create table if not exists goodjob_migrations (
    version text primary key,
    name text not null,
    applied_at timestamptz not null default now()
);
select exists (select 1 from goodjob_migrations where version = :'version') as applied \gset
\if :applied
\echo :name already applied
\else
\i :name.sql
select exists (select 1 from goodjob_migrations where version = :'version') as recorded \gset
\if :recorded
\echo applied :name
\else
\warn :name failed:
do $$ begin raise exception 'a migration must insert its own row into goodjob_migrations'; end $$;
\endif
\endif
SQL
    )
done
echo "schema is up to date"
