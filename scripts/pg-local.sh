#!/usr/bin/env bash
# Throwaway PostgreSQL cluster from the local binaries, for machines where none answers.
# Usage: scripts/pg-local.sh start|stop   (port PG_LOCAL_PORT, default 55432; trust auth, user postgres)
set -euo pipefail

port="${PG_LOCAL_PORT:-55432}"
dir="${PG_LOCAL_DIR:-/tmp/helios-pg-$port}"

find_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
    [ -n "$initdb" ] && [ -n "$pg_ctl" ] || { echo "pg-local: no initdb/pg_ctl found; install postgresql" >&2; exit 1; }
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$initdb" -D "$dir" -U postgres -A trust >/dev/null
    fi
    as_owner "$pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    echo "pg-local: PostgreSQL on 127.0.0.1:$port (data $dir); stop with: scripts/pg-local.sh stop"
    ;;
  stop)
    pg_ctl=$(find_bin pg_ctl)
    if [ -f "$dir/postmaster.pid" ]; then as_owner "$pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true; fi
    rm -rf "$dir"
    echo "pg-local: stopped"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
