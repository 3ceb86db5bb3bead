#!/bin/sh
# Run once by the postgres image on a new data volume (docker-entrypoint-initdb.d): the two
# roles of docs/database.md. alif_owner owns the database and its schema and runs the
# migrations; alif_app is what the API and the worker connect as, and gets its grants from
# `alif-graph db upgrade` (the migrate service). Neither is a superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner_password="$ALIF_GRAPH_OWNER_PASSWORD" \
  -v app_password="$ALIF_GRAPH_APP_PASSWORD" <<'SQL'
CREATE ROLE alif_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE alif_app LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO alif_owner;
ALTER SCHEMA public OWNER TO alif_owner;
-- Only the owner creates objects; the application connects and uses what it is granted.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO alif_app;
SQL
