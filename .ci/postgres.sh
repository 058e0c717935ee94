#!/bin/sh
# Installs PostgreSQL from Debian's packages, starts it, creates a role and
# a database for the store tests, and prints the line that points the tests
# at it:
#
#   eval "$(.ci/postgres.sh)"
#   go test ./store/...
#
# Runs as root (CI). Progress goes to stderr, the export line to stdout.
set -eu

ROLE=${FPS_PG_ROLE:-fps}
DB=${FPS_PG_DB:-fps_test}
PASSWORD=${FPS_PG_PASSWORD:-fps}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
	echo "postgres.sh: installing postgresql" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y postgresql >&2
fi

# The newest installed major version and its first cluster.
VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
CLUSTER=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v { print $2; exit }')
if [ -z "$CLUSTER" ]; then
	CLUSTER=main
	pg_createcluster "$VERSION" "$CLUSTER" >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $4 }' | grep -q online; then
	echo "postgres.sh: starting cluster $VERSION/$CLUSTER" >&2
	pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

# Wait until the server accepts connections.
i=0
until su postgres -c "psql -p $PORT -Atqc 'select 1'" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 30 ]; then
		echo "postgres.sh: server on port $PORT did not come up" >&2
		exit 1
	fi
	sleep 1
done

psql_admin() { su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -Atq $*"; }

if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname = '$ROLE'\"")" != 1 ]; then
	psql_admin "-c \"create role $ROLE login password '$PASSWORD'\"" >&2
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname = '$DB'\"")" != 1 ]; then
	psql_admin "-c \"create database $DB owner $ROLE\"" >&2
fi

echo "export FPS_TEST_POSTGRES='postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB?sslmode=disable'"
