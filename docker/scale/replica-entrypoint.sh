#!/bin/sh
# The streaming replica of the `scale` profile: on first start, a copy of the primary made
# with `pg_basebackup -R` (which also writes the settings to follow it); then the postgres
# image's own entrypoint serves it as a hot standby.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h pg-primary -U postgres; do sleep 1; done
    mkdir -p "$PGDATA"
    chown postgres "$PGDATA"
    chmod 700 "$PGDATA"
    gosu postgres pg_basebackup -h pg-primary -U postgres -D "$PGDATA" -R -X stream -c fast
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
