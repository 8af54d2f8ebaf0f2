#!/usr/bin/env bash
# shellcheck disable=SC2015 # "a && b || c" below always means: c when a or b fails
# Run a real single-node Apache Kafka (KRaft, combined broker+controller) from Maven Central jars.
# No Docker and no tarball download: the jars come through Maven (scripts/kafka/pom.xml) and are cached.
#
# Usage: scripts/kafka-local.sh start|stop [--force]|restart|status|ensure-jars
# The state dir is shared by every checkout run as the same user, so it records the checkout that
# started its broker (state/owner); `stop`, `restart` and `start` act only on a state dir this checkout
# owns, `status` says whose it is. Another checkout's state dir is left alone while its broker runs or
# when its data was kept on purpose (KAFKA_KEEP_DATA=1 stop); one whose broker died without that (a
# crash, a reboot, a session that ended) is a leftover that any checkout clears.
# `stop --force` stops and deletes whatever the state dir holds.
# Env:   KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_LOCAL_CACHE (~/.cache/helios-kafka),
#        KAFKA_LOCAL_STATE (/tmp/helios-kafka-$UID), KAFKA_START_TIMEOUT (180 s),
#        KAFKA_VERSION (default: kafka.version in scripts/kafka/pom.xml),
#        KAFKA_KEEP_DATA (0): 1 = `stop` keeps the log dir and `start` reuses a formatted one, so topics,
#        messages and committed offsets survive a stop/start (what a broker restart does in production).
#        `restart` = stop + start keeping the data. Without it, stop deletes the state and start formats anew.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)" # -P: one spelling per checkout, for the owner check
POM="$ROOT/scripts/kafka/pom.xml"
KAFKA_VERSION="${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")}"
CACHE="${KAFKA_LOCAL_CACHE:-$HOME/.cache/helios-kafka}/$KAFKA_VERSION"
LIBS="$CACHE/libs"
STATE="${KAFKA_LOCAL_STATE:-/tmp/helios-kafka-$UID}"
PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
KEEP_DATA="${KAFKA_KEEP_DATA:-0}"
TIMEOUT="${KAFKA_START_TIMEOUT:-180}" # ~10 s when idle; a 2-core box busy with other suites took 90+
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/broker.log"
OWNER="$STATE/owner" # the checkout (ROOT) whose script started the broker of this state dir
KEPT="$STATE/kept"   # present when a stop kept the data on purpose (KAFKA_KEEP_DATA=1) for a later start
FORCE=0

say() { echo "kafka-local: $*"; }
die() { say "$*" >&2; exit 1; }
# Test files, the bench and CI may call this at the same moment: serialise on lock files kept outside the
# dirs we delete, held until the script exits. fd 8 guards the jar cache (its lock file stays with the
# cache), fd 9 the broker's state dir.
lock_cache() { mkdir -p "$CACHE" && exec 8>"$CACHE/.lock" && flock -w 900 8 || die "no lock on $CACHE/.lock"; }
# The state lock file is deleted on exit by whoever holds it, so none is left behind. A waiter may then
# hold a lock on the deleted file: it retries until the lock it holds is the file at that path.
lock_state() {
  local i
  mkdir -p "$(dirname "$STATE")"
  for ((i = 0; i < 100; i++)); do
    exec 9>>"$STATE.lock" && flock -w 900 9 || die "no lock on $STATE.lock"
    if [[ "$(stat -L -c %d:%i /proc/self/fd/9)" == "$(stat -c %d:%i "$STATE.lock" 2>/dev/null)" ]]; then
      trap 'rm -f "$STATE.lock"' EXIT # (still held when the trap runs: the fd closes when the shell exits)
      return 0
    fi
    exec 9>&-
  done
  die "no lock on $STATE.lock (it kept being replaced)"
}
now_ms() { date +%s%3N; }
port_open() { timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# Short-lived CLI tools: C1 only + serial GC start noticeably faster and need no tuning.
kafka_java() { java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$LIBS/*" "$@"; }

# Who started the broker of the state dir: its checkout path, or nothing (no state, or a state written
# before owners were recorded).
state_owner() { cat "$OWNER" 2>/dev/null || true; }
# No broker runs from it and nobody kept its data for a restart: whoever made it is gone.
state_is_leftover() { [[ -d "$STATE" ]] && ! broker_pid >/dev/null && [[ ! -f "$KEPT" ]]; }
state_is_ours() { ((FORCE)) || [[ "$(state_owner)" == "$ROOT" ]] || state_is_leftover; }
# The port the state dir's broker listens on (it may differ from this invocation's KAFKA_PORT).
state_port() { sed -n 's/^advertised.listeners=PLAINTEXT:.*:\([0-9]*\)$/\1/p' "$STATE/server.properties" 2>/dev/null || true; }
not_ours() {
  local owner
  owner="$(state_owner)"
  echo "$STATE belongs to a broker started from ${owner:-another checkout (no owner recorded)}, not from this checkout ($ROOT)"
}

# The pid file may outlive its process (crash, reboot): only trust a live kafka.Kafka process.
broker_pid() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null &&
    echo "$pid"
}

# Download once per machine. The marker holds a hash of the pom + version, so editing the pom refetches;
# copying into a side dir first means an interrupted download never looks complete.
ensure_jars() {
  local sum
  sum="$( (cat "$POM"; echo "$KAFKA_VERSION") | sha256sum | cut -c1-64)"
  [[ "$(cat "$LIBS/.complete" 2>/dev/null)" == "$sum" ]] && return 0
  lock_cache
  [[ "$(cat "$LIBS/.complete" 2>/dev/null)" == "$sum" ]] && return 0 # another process just fetched them
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (once per machine)"
  rm -rf "$LIBS.partial" && mkdir -p "$LIBS.partial"
  mvn -q -B -f "$POM" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS.partial" -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1 ||
    { cat "$CACHE/mvn.log" >&2; exit 1; } # (mvn -q still prints stray colour codes: keep them off screen)
  echo "$sum" >"$LIBS.partial/.complete"
  rm -rf "$LIBS" && mv "$LIBS.partial" "$LIBS"
}

write_config() {
  mkdir -p "$STATE/data"
  cat >"$STATE/server.properties" <<EOF
# Combined broker+controller, one node: static voters, so formatting needs no --standalone.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/data
# One node can only hold one replica: internal topics left at the default 3 never get created, and
# consumer groups then loop on "The group coordinator is not available".
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# ...and one partition each (default 50) makes their on-demand creation quick.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Tests: join groups at once, create topics on first use, never delete data by age.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=1
log.retention.ms=-1
# 2 MiB, so a >1 MiB message reaches the consumer (which dead-letters it) instead of failing the produce.
message.max.bytes=2097152
replica.fetch.max.bytes=2097152
EOF
  # Kafka logs through log4j2 (via the SLF4J binding in the pom); send it to stdout = broker.log.
  cat >"$STATE/log4j2.properties" <<'EOF'
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
EOF
}

# A Kafka CLI tool against our broker, bounded (`timeout` needs a program, hence no kafka_java here).
tool() { timeout 20 java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$LIBS/*" "org.apache.kafka.tools.$1" \
  --bootstrap-server "127.0.0.1:$PORT" --command-config "$STATE/admin.properties" "${@:2}" >/dev/null 2>&1; }
# The listener must be our broker's, not one that another script started on the same port meanwhile.
owns_port() { ! command -v ss >/dev/null || ss -Htlnp "sport = :$PORT" | grep -q "pid=$1,"; }
# "Answers" = TCP accept AND a metadata round trip (topic list), so clients can really use it.
broker_ready() { port_open "$PORT" && owns_port "$1" && tool TopicCommand --list; }

start() {
  lock_state
  ensure_jars # (before the port check: a first download takes a while, and someone may start a broker meanwhile)
  if port_open "$PORT"; then
    say "something already answers on 127.0.0.1:$PORT; not starting another broker"
    return 0
  fi
  # Another checkout's broker (running elsewhere, or stopped with its data kept) is not ours to replace.
  if [[ -d "$STATE" ]] && ! state_is_ours; then
    die "$(not_ours); leaving it alone. Start one with a state dir of its own (KAFKA_LOCAL_STATE=… KAFKA_PORT=… KAFKA_CONTROLLER_PORT=…), or clear it with: $0 stop --force"
  fi
  local t0 pid reuse=0
  t0="$(now_ms)"
  if state_is_leftover && [[ "$(state_owner)" != "$ROOT" ]]; then
    local owner
    owner="$(state_owner)"
    say "clearing $STATE: its broker (started from ${owner:-a checkout not recorded}) no longer runs and its data was not kept"
  fi
  # A log dir that StorageTool formatted has meta.properties; keep it only when asked to.
  [[ "$KEEP_DATA" == 1 && -f "$STATE/data/meta.properties" ]] && reuse=1
  if ((reuse)); then
    stop_locked >/dev/null # a leftover broker of this state dir, if any; the data stays
  else
    KEEP_DATA=0 stop_locked >/dev/null # leftovers of an earlier run (dead broker, old data): start from a fresh log dir
  fi
  write_config
  echo "$ROOT" >"$OWNER"
  rm -f "$KEPT"
  printf 'request.timeout.ms=3000\ndefault.api.timeout.ms=5000\n' >"$STATE/admin.properties"
  if ((reuse)); then
    say "reusing the log dir $STATE/data (KAFKA_KEEP_DATA=1): topics and offsets kept"
    echo "--- restart $(date -u +%FT%TZ), log dir kept" >>"$LOG"
  else
    kafka_java kafka.tools.StorageTool format -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
      -c "$STATE/server.properties" >"$LOG" 2>&1 || { cat "$LOG"; exit 1; }
  fi
  # setsid+nohup: the broker outlives this shell and CI step; both exec, so $! is java's pid.
  setsid nohup java -Xmx512m -Djava.awt.headless=true -Dlog4j2.configurationFile="$STATE/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties" >>"$LOG" 2>&1 </dev/null 8>&- 9>&- & # (not holding our locks)
  pid=$!
  echo "$pid" >"$PIDFILE"
  until kill -0 "$pid" 2>/dev/null && broker_ready "$pid"; do
    if ! kill -0 "$pid" 2>/dev/null || (($(now_ms) - t0 > TIMEOUT * 1000)); then
      # The cause (e.g. a port in use) is usually the first ERROR; shutdown noise follows it.
      say "broker did not come up within ${TIMEOUT}s (or exited). First errors, then the end of $LOG:" >&2
      grep -A1 -E '\] (ERROR|FATAL) ' "$LOG" | head -n 6 >&2 || true
      echo "..." >&2
      tail -n 25 "$LOG" >&2
      kill -KILL "$pid" 2>/dev/null || true # (state dir kept for a look; the next start or stop clears it)
      exit 1
    fi
    sleep 0.5
  done
  # Describing a group makes the broker create __consumer_offsets now, so the first test's consumer gets a
  # coordinator at once instead of retrying on "The group coordinator is not available". Result unused.
  tool consumer.group.ConsumerGroupCommand --describe --group helios-kafka-local-warmup || true
  say "Kafka $KAFKA_VERSION up on 127.0.0.1:$PORT (pid $pid) after $(awk "BEGIN{printf \"%.1f\", ($(now_ms) - $t0)/1000}") s"
  say "log: $LOG — stop with: ${KAFKA_LOCAL_STATE:+KAFKA_LOCAL_STATE=$STATE }$0 stop"
}

stop() {
  lock_state
  if [[ -d "$STATE" ]] && ! state_is_ours; then
    say "$(not_ours); not stopping it, nor deleting its data. Stop it from that checkout, or here with: $0 stop --force" >&2
    return 1
  fi
  stop_locked
}
stop_locked() {
  local pid i
  if pid="$(broker_pid)"; then
    kill -TERM "$pid"
    for ((i = 0; i < 60; i++)); do # controlled shutdown usually takes a few seconds; give it 30 s
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped broker (pid $pid)"
  else
    say "no broker running from $STATE"
  fi
  if [[ "$KEEP_DATA" == 1 ]]; then
    rm -f "$PIDFILE"
    [[ -d "$STATE" ]] && touch "$KEPT"
    say "kept $STATE (KAFKA_KEEP_DATA=1): start with KAFKA_KEEP_DATA=1 resumes it"
  elif [[ -n "$STATE" && "$STATE" != "/" ]]; then
    rm -rf "$STATE"
  fi
}

status() {
  local pid
  if pid="$(broker_pid)" && state_is_ours; then
    say "running: pid $pid, 127.0.0.1:$(state_port), state $STATE, started from this checkout"
  elif [[ -n "$pid" ]]; then
    say "not this checkout's: $(not_ours) (pid $pid, 127.0.0.1:$(state_port)); \`stop\` leaves it alone"
  elif port_open "$PORT"; then
    say "127.0.0.1:$PORT answers, but not a broker started by this script"
  elif state_is_leftover; then
    say "not running; $STATE is left over from a broker that no longer runs (\`start\` or \`stop\` clears it)"
    return 1
  else
    say "not running"
    return 1
  fi
}

[[ "${2:-}" == --force && "${1:-}" == stop ]] && FORCE=1 && set -- stop
if (($# > 1)); then
  echo "usage: $0 start|stop [--force]|restart|status|ensure-jars (unexpected: ${*:2})" >&2
  exit 2
fi
case "${1:-}" in
start) start ;;
stop) stop ;;
restart) KEEP_DATA=1 && stop && start ;;
status) status ;;
ensure-jars) ensure_jars && say "jars ready in $LIBS" ;;
*)
  echo "usage: $0 start|stop [--force]|restart|status|ensure-jars" >&2
  exit 2
  ;;
esac
