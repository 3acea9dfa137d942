#!/bin/sh
# Run once by the postgres image when it creates the primary's cluster: lets the replica
# stream from it (password authentication, the superuser's password).
set -eu
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
