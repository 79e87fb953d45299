#!/bin/sh
# Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
# creates eidetic_keys, the database that holds only the wrapped data keys, so that a
# dump of the data database alone never contains what opens it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE DATABASE eidetic_keys OWNER "$POSTGRES_USER";
SQL
