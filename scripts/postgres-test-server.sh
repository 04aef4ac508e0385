#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (Debian's postgresql package), in DIR on PORT:
#   postgres-test-server.sh start DIR PORT | restart DIR | stop DIR
# It trusts local connections as the superuser `attune` and keeps nothing durable (fsync off).
# As root it runs the server as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
cmd=${1:?usage: $0 start DIR PORT | restart DIR | stop DIR}
dir=${2:?missing DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "postgres-test-server: no PostgreSQL binaries in /usr/lib/postgresql/*/bin; run scripts/ensure-test-deps.sh (apt-get install postgresql)" >&2
  exit 1
fi
as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
  start)
    port=${3:?missing PORT}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_server "$bin/initdb" -D "$dir/data" -U attune --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  restart)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 restart >/dev/null
    ;;
  stop)
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null || true
    ;;
  *)
    echo "postgres-test-server: unknown command '$cmd' (start, restart, stop)" >&2
    exit 1
    ;;
esac
