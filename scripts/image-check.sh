#!/usr/bin/env bash
# Builds the real image with Podman and runs it once: `scripts/image-check.sh` (as root, on Debian).
# Not part of `bun run test`: it needs root, Podman and a few minutes. What it proves:
#   1. the Containerfile builds (with a local base image, see below) and how big the image is;
#   2. `migrate` applies migrations/ from inside the image against PostgreSQL on 127.0.0.1:5432;
#   3. `api` (the default role) answers /readyz, /api/outcomes/ and /metrics with a read-only root,
#      as uid 10001, and stops promptly on SIGTERM — with --init, and without it (PID 1, as in a
#      Kubernetes pod);
#   4. when a broker answers on 127.0.0.1:9092: `produce-sample` puts 50 outcomes on a fresh topic,
#      `consumer` stores them all and stops on SIGTERM.
#
# No image registry is reachable from the sandbox this was written in, so the Bun base image is
# made locally: Debian bookworm from the Debian mirror (debootstrap) plus Bun from the npm registry
# (@oven/bun-linux-x64), imported with `podman import` and passed as --build-arg BASE_IMAGE.
# With registry access, set BASE_IMAGE=docker.io/oven/bun:1.4.5 to skip that step.
# Rootful Podman there needs runc (crun fails on setrlimit) and explicit nofile/nproc ulimits.
#
# Environment: BASE_IMAGE (skip the local base), PG_URL (default postgres://postgres@127.0.0.1:5432),
# KEEP_IMAGES=1 (keep the built images), API_PORT (default 18400), HEALTH_PORT (default 19464).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "image-check: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || { say "run as root (rootful Podman)"; exit 1; }

BUN_VERSION=$(sed -nE 's/.*"packageManager": *"bun@([^"]+)".*/\1/p' package.json)
IMAGE=localhost/helios/analytics-service:image-check
LOCAL_BASE=localhost/helios-bun-base:$BUN_VERSION
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB_NAME="helios_image_check_$$"
API_PORT="${API_PORT:-18400}"
HEALTH_PORT="${HEALTH_PORT:-19464}"
PODMAN=(podman --runtime runc)
# Explicit limits: runc cannot raise nofile above this shell's hard limit, and in this sandbox it
# is refused nproc at the hard limit itself (measured: 96364 fails, 4096 works).
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")
RUN_OPTS=(--network host --read-only --tmpfs /tmp "${ULIMITS[@]}" --cap-drop ALL --security-opt no-new-privileges)
containers=()
work=$(mktemp -d)

cleanup() {
  for name in "${containers[@]}"; do "${PODMAN[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true; done
  psql "$PG_URL/postgres" -qc "drop database if exists $DB_NAME with (force)" >/dev/null 2>&1 || true
  if [ "${KEEP_IMAGES:-0}" != 1 ]; then
    "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
    "${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need podman || ! need runc || ! need debootstrap; then
  say "installing podman, runc, debootstrap from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
say "$(podman --version), runc $(runc --version | head -n 1 | awk '{print $3}')"

# 1. Base image: the official one when given, else Debian + Bun from npm.
if [ -n "${BASE_IMAGE:-}" ]; then
  base="$BASE_IMAGE"
elif "${PODMAN[@]}" image exists "$LOCAL_BASE"; then
  base="$LOCAL_BASE"
  say "reusing local base $base"
else
  t0=$(now)
  mirror=$(sed -nE 's/^URIs: *(http[^ ]*debian)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  mirror="${mirror:-http://deb.debian.org/debian}"
  say "building local base: debootstrap bookworm from $mirror + bun@$BUN_VERSION from npm"
  timeout 900 debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; exit 1; }
  (cd "$work" && timeout 300 npm pack --silent "@oven/bun-linux-x64@$BUN_VERSION" >/dev/null)
  tar -xzf "$work"/oven-bun-linux-x64-*.tgz -C "$work"
  install -m 0755 "$work/package/bin/bun" "$work/rootfs/usr/local/bin/bun"
  ln -sf bun "$work/rootfs/usr/local/bin/bunx"
  rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*
  tar -C "$work/rootfs" -c . | "${PODMAN[@]}" import --change 'CMD ["/usr/local/bin/bun"]' - "$LOCAL_BASE" >"$work/import.log" 2>&1 \
    || { cat "$work/import.log"; exit 1; }
  base="$LOCAL_BASE"
  say "local base ready in $(elapsed "$t0") s: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$base" | awk '{printf "%.0f MB", $1/1e6}')"
fi

# A TLS-intercepting proxy in front of the package registries (as in the sandbox this was written
# in) signs with its own CA, which the host trusts through NODE_EXTRA_CA_CERTS. Give the build base
# that CA too, so `bun install` in the build stage can fetch; it stays in the build stage only.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_base="localhost/helios-build-base-ca:$BUN_VERSION"
  ctr=$("${PODMAN[@]}" create "$base")
  "${PODMAN[@]}" cp "$NODE_EXTRA_CA_CERTS" "$ctr:/usr/local/share/build-extra-ca.crt"
  "${PODMAN[@]}" commit -q --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/build-extra-ca.crt' "$ctr" "$ca_base" >/dev/null
  "${PODMAN[@]}" rm -f "$ctr" >/dev/null
  say "build base $ca_base: $base plus the CA of NODE_EXTRA_CA_CERTS for the registry proxy"
  base="$ca_base"
fi

# 2. The image, exactly from the Containerfile.
t0=$(now)
say "building $IMAGE from Containerfile on $base"
timeout 1200 "${PODMAN[@]}" build --network host "${ULIMITS[@]}" \
  --build-arg BASE_IMAGE="$base" -f Containerfile -t "$IMAGE" . >"$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log"; exit 1; }
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
say "built in $(elapsed "$t0") s; image size $(awk -v s="$size" 'BEGIN {printf "%.1f MB", s/1e6}')"
say "image config: $("${PODMAN[@]}" image inspect --format 'user={{.Config.User}} entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}} stopsignal={{.Config.StopSignal}}' "$IMAGE")"
say "image files: $("${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" --entrypoint /app/helios-analytics "$IMAGE" no-such-role 2>&1 | head -n 1)"

db_env=(-e "DATABASE_URL=$PG_URL/$DB_NAME" -e LOG_LEVEL=INFO)

# 3. migrate: creates the database and applies migrations/ from inside the binary.
t0=$(now)
timeout 120 "${PODMAN[@]}" run --rm --init "${RUN_OPTS[@]}" "${db_env[@]}" "$IMAGE" migrate >"$work/migrate.log" 2>&1 \
  || { cat "$work/migrate.log"; exit 1; }
say "migrate: $(grep -c '"Migration applied"' "$work/migrate.log") migrations applied in $(elapsed "$t0") s"
timeout 60 "${PODMAN[@]}" run --rm --init "${RUN_OPTS[@]}" "${db_env[@]}" "$IMAGE" migrate --status | sed 's/^/image-check:   /'

# 4. api, with and without --init: ready, serving, and stopping on SIGTERM.
check_api() {
  local label=$1 name="helios-image-check-api-$$-$1"; shift
  containers+=("$name")
  "${PODMAN[@]}" run -d --name "$name" "$@" "${RUN_OPTS[@]}" "${db_env[@]}" -e PORT="$API_PORT" "$IMAGE" >/dev/null
  local t0 ready=""; t0=$(now)
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/readyz")" = 200 ]; then ready=yes; break; fi
    sleep 0.2
  done
  [ -n "$ready" ] || { say "api ($label) never became ready"; "${PODMAN[@]}" logs "$name" | tail -n 20; exit 1; }
  say "api ($label): /readyz 200 after $(elapsed "$t0") s"
  say "api ($label): /api/outcomes/ → $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/api/outcomes/"), /metrics → $(curl -s "http://127.0.0.1:$API_PORT/metrics" | grep -c '^http_requests_total') http_requests_total series"
  say "api ($label): runs as $("${PODMAN[@]}" top "$name" user huser 2>/dev/null | tail -n +2 | tr -s ' ' | tr '\n' ';')"
  t0=$(now)
  timeout 60 "${PODMAN[@]}" stop -t 20 "$name" >/dev/null
  say "api ($label): stopped by SIGTERM in $(elapsed "$t0") s, exit code $("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$name")"
}
check_api with-init --init
check_api pid-1

# 5. produce-sample then consumer, when a broker answers locally: the consumer stores what the
#    topic holds and stops on SIGTERM.
if timeout 2 bash -c '</dev/tcp/127.0.0.1/9092' 2>/dev/null; then
  kafka_env=(-e KAFKA_BROKERS=127.0.0.1:9092 -e KAFKA_TOPIC_AUCTION_OUTCOMES="helios-image-check-$$" -e KAFKA_CONSUMER_GROUP="helios-image-check-$$")
  timeout 60 "${PODMAN[@]}" run --rm --init "${RUN_OPTS[@]}" "${db_env[@]}" "${kafka_env[@]}" "$IMAGE" produce-sample --count 50 >"$work/produce.log" 2>&1 \
    || { cat "$work/produce.log"; exit 1; }
  say "produce-sample: $(grep -o '"message":"Sample outcomes produced"[^}]*' "$work/produce.log")"
  name="helios-image-check-consumer-$$"
  containers+=("$name")
  t0=$(now)
  "${PODMAN[@]}" run -d --name "$name" --init "${RUN_OPTS[@]}" "${db_env[@]}" "${kafka_env[@]}" -e CONSUMER_HEALTH_PORT="$HEALTH_PORT" "$IMAGE" consumer >/dev/null
  stored=0
  for _ in $(seq 1 60); do
    stored=$(psql "$PG_URL/$DB_NAME" -Atc "select count(*) from auction_outcomes" 2>/dev/null || echo 0)
    [ "$stored" -ge 50 ] && break
    sleep 0.5
  done
  say "consumer: $stored of 50 outcomes stored after $(elapsed "$t0") s"
  say "consumer: /healthz → $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH_PORT/healthz" || true), /readyz → $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH_PORT/readyz" || true)"
  t0=$(now)
  timeout 120 "${PODMAN[@]}" stop -t 90 "$name" >/dev/null
  say "consumer: stopped by SIGTERM in $(elapsed "$t0") s, exit code $("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$name")"
  say "consumer: log lines $("${PODMAN[@]}" logs "$name" 2>&1 | grep -o '"message":"[^"]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  [ "$stored" -ge 50 ] || { say "consumer did not store the sample"; exit 1; }
else
  say "consumer: skipped (no broker on 127.0.0.1:9092)"
fi

say "done"
