#!/usr/bin/env bash
# Throwaway PostgreSQL cluster from the local binaries, for machines where none answers, and for
# fault tests that stop a server under load (never the shared one: give them a port of their own).
# Usage: scripts/pg-local.sh start|halt|restart|status|stop [--force]
#   start    initdb if needed, then start (already running: nothing to do)
#   halt     stop the server fast (clients disconnected), keep the data (not running: nothing to do)
#   restart  halt, then start
#   status   exit 0 when running
#   stop     halt and delete the data directory
# Port PG_LOCAL_PORT (default 55432), data PG_LOCAL_DIR (default /tmp/helios-pg-$port); trust auth, user postgres.
# The default data dir is shared by every checkout run as the same user, so it records the checkout
# that made it: start, halt, restart and stop touch only this checkout's (another's running server is
# used as it is, another's halted one left alone); `--force` acts on whatever is there. A data dir
# whose server stopped without a halt (a crash, a reboot, a session that ended) is a leftover: the
# next start from any checkout takes it over.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

port="${PG_LOCAL_PORT:-55432}"
dir="${PG_LOCAL_DIR:-/tmp/helios-pg-$port}"
owner_file="$dir/helios-owner" # the checkout whose script made this data dir
kept_file="$dir/helios-halted" # present while halted on purpose, for a later start or restart
force=0

# find_bin, as_owner
source "$root/scripts/lib/postgres-bin.sh"

pg_ctl=$(find_bin pg_ctl)

owner() { cat "$owner_file" 2>/dev/null || true; }
leftover() { [ -f "$dir/PG_VERSION" ] && [ ! -f "$kept_file" ] && ! running; }
ours() { [ "$force" = 1 ] || [ ! -f "$dir/PG_VERSION" ] || [ "$(owner)" = "$root" ] || leftover; }
not_ours() {
  local who
  who="$(owner)"
  echo "pg-local: $dir belongs to a server started from ${who:-another checkout (no owner recorded)}, not from this checkout ($root)"
}
# halt, restart, stop: refuse another checkout's data dir (exit 1), unless --force.
mine_or_refuse() {
  ours && return 0
  echo "$(not_ours); leaving it alone. Act on it from that checkout, or here with: $0 ${1:-stop} --force" >&2
  exit 1
}

running() {
  [ -n "$pg_ctl" ] && [ -f "$dir/PG_VERSION" ] && as_owner "$pg_ctl" -D "$dir" status >/dev/null 2>&1
}

start() {
  local initdb
  initdb=$(find_bin initdb)
  [ -n "$initdb" ] && [ -n "$pg_ctl" ] || { echo "pg-local: no initdb/pg_ctl found; install postgresql" >&2; exit 1; }
  if running; then
    if ours; then echo "pg-local: already running on 127.0.0.1:$port (data $dir)"; else echo "$(not_ours); already running on 127.0.0.1:$port: use it, \`stop\` leaves it alone"; fi
    return
  fi
  mine_or_refuse start
  if leftover && [ "$(owner)" != "$root" ]; then
    local who
    who="$(owner)"
    echo "pg-local: taking over $dir: its server (started from ${who:-a checkout not recorded}) no longer runs and was not halted"
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$initdb" -D "$dir" -U postgres -A trust >/dev/null
  fi
  echo "$root" >"$owner_file"
  rm -f "$kept_file"
  as_owner "$pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  echo "pg-local: PostgreSQL on 127.0.0.1:$port (data $dir); stop with: scripts/pg-local.sh stop"
}

halt() {
  if running; then
    as_owner "$pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    touch "$kept_file"
    echo "pg-local: halted 127.0.0.1:$port (data kept in $dir)"
  else
    echo "pg-local: not running on 127.0.0.1:$port"
  fi
}

if [ "${2:-}" = --force ]; then force=1; set -- "$1"; fi
if [ $# -gt 1 ]; then echo "usage: $0 start|halt|restart|status|stop [--force] (unexpected: ${*:2})" >&2; exit 2; fi
case "${1:-}" in
  start) start ;;
  halt) mine_or_refuse halt; halt ;;
  restart) mine_or_refuse restart; halt; start ;;
  status) running ;;
  stop)
    mine_or_refuse stop
    if [ -f "$dir/postmaster.pid" ] && [ -n "$pg_ctl" ]; then as_owner "$pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true; fi
    rm -rf "$dir"
    echo "pg-local: stopped"
    ;;
  *) echo "usage: $0 start|halt|restart|status|stop [--force]" >&2; exit 2 ;;
esac
