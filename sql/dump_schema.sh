#!/usr/bin/env bash
# Print the normalised schema of a fresh install: what sql/schema.sql holds.
#
#   sql/dump_schema.sh [SERVER_URL] > sql/schema.sql
#       creates a scratch database on SERVER_URL's server (a URL of any database
#       there, default the local postgres database), applies the migrations with
#       install.sh, dumps it and drops it.
#   sql/dump_schema.sh --as-is DATABASE_URL
#       dumps an existing database as it is.
#
# The dump is pg_dump --schema-only --no-owner --no-privileges without the lines
# that vary between runs or add nothing (version header, \restrict keys, SET and
# set_config lines) and with blank-line runs squeezed, so it is deterministic.
set -euo pipefail

normalise() {
    sed -E -e '/^-- Dumped (from|by) /d' -e '/^\\(un)?restrict /d' \
        -e '/^SET /d' -e '/^SELECT pg_catalog\.set_config\(/d' |
        awk 'NF { if (gap && seen) print ""; print; gap = 0; seen = 1; next } { gap = 1 }'
}

dump() {
    pg_dump --schema-only --no-owner --no-privileges -d "$1" | normalise
}

if [[ ${1:-} == --as-is ]]; then
    dump "${2:?usage: $0 --as-is DATABASE_URL}"
    exit
fi

server=${1:-${GOODJOB_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}}
db=goodjob_schema_$$
url=${server%/*}/$db
admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$server" -c "$1"; }

admin "create database $db"
trap 'admin "drop database if exists $db with (force)"' EXIT
"$(dirname "$0")/install.sh" "$url" >/dev/null
dump "$url"
