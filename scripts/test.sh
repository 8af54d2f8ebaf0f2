#!/usr/bin/env bash
# `bun run test`: makes sure PostgreSQL and Kafka answer (starting throwaway ones when they
# do not), runs `bun test`, stops what it started, and ends with one plain "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
# Stop at the end only what this run started: a server that came up meanwhile (another run, another
# checkout) is reported by the script as already there, and is left running.
start_service() {
  local service=$1 started_line=$2 out
  out=$(mktemp)
  "scripts/$service-local.sh" start | tee "$out"
  grep -q "$started_line" "$out" && started+=("$service")
  rm -f "$out"
}
cleanup() {
  for service in "${started[@]}"; do "scripts/$service-local.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

answers() { timeout 2 bash -c "</dev/tcp/$1/$2" 2>/dev/null; }

# PostgreSQL: TEST_DATABASE_URL, else the local server on 5432, else a throwaway cluster.
pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_hostport=$(echo "$pg_url" | sed -E 's#^[a-z]+://([^@/]*@)?([^/:]+):?([0-9]*).*#\2 \3#')
read -r pg_host pg_port <<<"$pg_hostport"
if ! answers "$pg_host" "${pg_port:-5432}"; then
  echo "test: no PostgreSQL at $pg_host:${pg_port:-5432}; starting a throwaway cluster"
  start_service pg "pg-local: PostgreSQL on "
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:${PG_LOCAL_PORT:-55432}/postgres"
fi

# Kafka: KAFKA_BROKERS when it answers, else the project's local broker.
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
first_broker="${KAFKA_BROKERS%%,*}"
if ! answers "${first_broker%:*}" "${first_broker##*:}"; then
  echo "test: no Kafka at $first_broker; starting the local broker"
  KAFKA_PORT="${first_broker##*:}" start_service kafka " up on 127.0.0.1:"
fi

# Citus (tests/citus/): TEST_CITUS_URL, else a throwaway local cluster (coordinator + two workers)
# when the citus extension is installed and the run includes those tests. Without one they skip,
# saying why (also when the cluster did not start: its error is printed above them).
wants_citus() {
  [ $# -eq 0 ] && return 0
  local arg
  for arg in "$@"; do case "$arg" in *citus*) return 0 ;; esac; done
  return 1
}
if [ -z "${TEST_CITUS_URL:-}" ] && wants_citus "$@" && scripts/citus-local.sh installed >/dev/null 2>&1; then
  start_service citus "citus-local: Citus cluster up" || true
  export TEST_CITUS_URL="postgres://postgres@127.0.0.1:${CITUS_LOCAL_PORT:-55450}/postgres"
fi

log=$(mktemp)
set +e
bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
pass=$(grep -E '^ *[0-9]+ pass$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
fail=$(grep -E '^ *[0-9]+ fail$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
echo "${pass} passed, ${fail} failed"
exit "$status"
