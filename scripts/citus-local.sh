#!/usr/bin/env bash
# Throwaway Citus cluster from the installed PostgreSQL binaries: a coordinator and two workers on
# loopback ports, each its own data directory with shared_preload_libraries=citus, the workers
# registered with the coordinator in its `postgres` database. For the Citus tests (tests/citus/)
# and for trying the service on a distributed database; it never touches another server's settings.
# It does not install Citus: it needs the `citus` extension already installed for this PostgreSQL
# (`pg_config --sharedir`/extension/citus.control and `pg_config --pkglibdir`/citus.so) and says so
# when it is not.
# Usage: scripts/citus-local.sh start|status|stop|installed|restart-worker N [--force]
#   start      initdb each node if needed, start them, register the workers (running: nothing to do)
#   status     exit 0 when all three nodes run
#   restart-worker N
#              fast restart of worker N (1 or 2), clients disconnected, data kept (fault tests)
#   stop       stop the nodes and delete their data
#   installed  exit 0 when the citus extension is installed for the local PostgreSQL (prints where)
# Ports CITUS_LOCAL_PORT (coordinator, default 55450) and the next two (workers); data under
# CITUS_LOCAL_DIR (default /tmp/helios-citus-$port); trust auth on 127.0.0.1, user postgres.
# The data dir records the checkout that made it: start and stop touch only this checkout's cluster
# (another checkout's running one is used as it is); `--force` acts on whatever is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

port="${CITUS_LOCAL_PORT:-55450}"
dir="${CITUS_LOCAL_DIR:-/tmp/helios-citus-$port}"
owner_file="$dir/helios-owner"
nodes=(coordinator worker1 worker2)
force=0

# find_bin, as_owner
source "$root/scripts/lib/postgres-bin.sh"

pg_ctl=$(find_bin pg_ctl)
psql_bin=$(find_bin psql)
pg_config_bin=$(find_bin pg_config)

node_port() {
  case "$1" in coordinator) echo "$port" ;; worker1) echo $((port + 1)) ;; worker2) echo $((port + 2)) ;; esac
}

installed() {
  [ -n "$pg_config_bin" ] || return 1
  local control lib
  control="$("$pg_config_bin" --sharedir)/extension/citus.control"
  lib="$("$pg_config_bin" --pkglibdir)/citus.so"
  [ -f "$control" ] && [ -f "$lib" ] && echo "citus-local: citus $(sed -nE "s/^default_version = '(.*)'/\1/p" "$control") installed ($control, $lib)"
}

node_running() { [ -f "$dir/$1/PG_VERSION" ] && as_owner "$pg_ctl" -D "$dir/$1" status >/dev/null 2>&1; }
all_running() {
  local node
  for node in "${nodes[@]}"; do node_running "$node" || return 1; done
}
owner() { cat "$owner_file" 2>/dev/null || true; }
ours() { [ "$force" = 1 ] || [ ! -f "$owner_file" ] || [ "$(owner)" = "$root" ] || ! all_running; }

psql_at() { as_owner "$psql_bin" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atc "$2"; }

start_node() {
  local node=$1 node_dir="$dir/$1" node_port initdb
  node_port=$(node_port "$node")
  initdb=$(find_bin initdb)
  if [ ! -f "$node_dir/PG_VERSION" ]; then
    mkdir -p "$node_dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" "$node_dir"
    as_owner "$initdb" -D "$node_dir" -U postgres -A trust >/dev/null
    # Only this node's own configuration: the machine's PostgreSQL keeps its settings.
    # node_conninfo: the nodes talk over loopback without TLS (Citus requires TLS by default).
    as_owner tee -a "$node_dir/postgresql.conf" >/dev/null <<EOF
shared_preload_libraries = 'citus'
listen_addresses = '127.0.0.1'
port = $node_port
unix_socket_directories = '/tmp'
fsync = off
max_connections = 300
max_prepared_transactions = 200
max_locks_per_transaction = 512
citus.node_conninfo = 'sslmode=disable'
# A commit cut short by a restarted worker is finished within seconds (default 1 min), so the
# fault tests that restart one do not wait on its row locks for long.
citus.recover_2pc_interval = '2s'
EOF
  fi
  if ! node_running "$node"; then
    if timeout 2 bash -c "</dev/tcp/127.0.0.1/$node_port" 2>/dev/null; then
      echo "citus-local: port $node_port (the $node) is taken by another server; set CITUS_LOCAL_PORT to a free base port (it uses three)" >&2
      exit 1
    fi
    as_owner "$pg_ctl" -D "$node_dir" -l "$node_dir/server.log" -w -t 60 start >/dev/null ||
      { echo "citus-local: the $node did not start; its log: $node_dir/server.log" >&2; exit 1; }
  fi
  psql_at "$node_port" "create extension if not exists citus" >/dev/null
}

start() {
  [ -n "$pg_ctl" ] && [ -n "$psql_bin" ] || { echo "citus-local: no pg_ctl/psql found; install postgresql" >&2; exit 1; }
  if ! installed >/dev/null; then
    echo "citus-local: the citus extension is not installed for $("$pg_config_bin" --version 2>/dev/null || echo PostgreSQL) (no citus.control in $("$pg_config_bin" --sharedir 2>/dev/null)/extension); build and install Citus first (docs/scaling-out.md)" >&2
    exit 1
  fi
  if all_running; then
    if [ "$(owner)" = "$root" ]; then
      echo "citus-local: already running, coordinator on 127.0.0.1:$port (data $dir)"
    else
      echo "citus-local: $dir belongs to a cluster started from $(owner), already running: coordinator on 127.0.0.1:$port; \`stop\` leaves it alone"
    fi
    return
  fi
  if ! ours; then
    echo "citus-local: $dir belongs to $(owner); leaving it alone (or: $0 start --force)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  echo "$root" | as_owner tee "$owner_file" >/dev/null
  local node
  for node in "${nodes[@]}"; do start_node "$node"; done
  psql_at "$port" "select citus_set_coordinator_host('127.0.0.1', $port)" >/dev/null
  for node in worker1 worker2; do
    psql_at "$port" "select citus_add_node('127.0.0.1', $(node_port "$node")) where not exists (select from pg_dist_node where nodeport = $(node_port "$node"))" >/dev/null
  done
  echo "citus-local: Citus cluster up, coordinator on 127.0.0.1:$port, workers on 127.0.0.1:$((port + 1)) and :$((port + 2)) (data $dir); stop with: scripts/citus-local.sh stop"
}

stop() {
  if ! ours; then
    echo "citus-local: $dir belongs to a cluster started from $(owner); leaving it alone (or: $0 stop --force)" >&2
    exit 1
  fi
  local node
  for node in "${nodes[@]}"; do
    if [ -f "$dir/$node/postmaster.pid" ] && [ -n "$pg_ctl" ]; then as_owner "$pg_ctl" -D "$dir/$node" -m fast -w stop >/dev/null || true; fi
  done
  rm -rf "$dir"
  echo "citus-local: stopped"
}

restart_worker() {
  case "${1:-}" in 1 | 2) ;; *) echo "usage: $0 restart-worker 1|2" >&2; exit 2 ;; esac
  if [ "$(owner)" != "$root" ] && [ "$force" != 1 ]; then
    echo "citus-local: $dir belongs to $(owner); not restarting its worker (or: $0 restart-worker $1 --force)" >&2
    exit 1
  fi
  node_running "worker$1" || { echo "citus-local: worker$1 is not running" >&2; exit 1; }
  as_owner "$pg_ctl" -D "$dir/worker$1" -l "$dir/worker$1/server.log" -m fast -w -t 60 restart >/dev/null
  echo "citus-local: worker$1 restarted on 127.0.0.1:$(node_port "worker$1")"
}

if [ "${1:-}" = restart-worker ]; then
  [ "${3:-}" = --force ] && force=1
  restart_worker "${2:-}"
  exit 0
fi
if [ "${2:-}" = --force ]; then force=1; set -- "$1"; fi
if [ $# -gt 1 ]; then echo "usage: $0 start|status|stop|installed|restart-worker N [--force] (unexpected: ${*:2})" >&2; exit 2; fi
case "${1:-}" in
  start) start ;;
  status) all_running ;;
  stop) stop ;;
  installed) installed || { echo "citus-local: the citus extension is not installed for this PostgreSQL" >&2; exit 1; } ;;
  *) echo "usage: $0 start|status|stop|installed|restart-worker N [--force]" >&2; exit 2 ;;
esac
