#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, single node: broker+controller) for tests. No Docker.
#
#   scripts/kafka.sh fetch    resolve the broker jars into .cache/kafka/lib (mvn; once)
#   scripts/kafka.sh start    start a broker (or reuse the running one); last stdout line = HOST:PORT
#   scripts/kafka.sh status   print HOST:PORT and exit 0 if running, exit 1 otherwise
#   scripts/kafka.sh stop     stop the broker and delete its data
#
# Stdout carries only the bootstrap address (start/status); progress goes to stderr.
# Everything lives under <repo>/.cache/kafka/ (git-ignored):
#   lib/          broker jars + .stamp        run/state        pid/address of the running broker
#   run/broker-*/ server.properties, data/, server.log, stdout.log (deleted by stop)
#
# Environment (all optional):
#   KAFKA_HEAP_OPTS       default: -Xms256m -Xmx512m
#   KAFKA_JVM_OPTS        default: -XX:+UseG1GC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
#   KAFKA_START_TIMEOUT   seconds to wait for readiness (default 60)
#   KAFKA_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL (default 20)
#   KAFKA_KEEP_FAILED=1   keep the run dir of a broker that failed to start (for debugging)

set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
TEMPLATE="$SCRIPT_DIR/kafka/server.properties.tmpl"
WAIT_JS="$SCRIPT_DIR/kafka/wait-broker.mjs"
CACHE="$ROOT/.cache/kafka"
LIB="$CACHE/lib"
STAMP="$LIB/.stamp"
RUN="$CACHE/run"
STATE="$RUN/state"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH — install a JDK (17+) to run the Kafka test broker"
  local v major
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)"
  major="${v#1.}"; major="${major%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] || die "could not determine the java version (got '$v')"
  ((major >= 11)) || die "java $v is too old for Kafka 3.9; need Java 17 (11 minimum)"
}

need_node() {
  command -v node >/dev/null 2>&1 || die "node not found on PATH (needed for port selection and the readiness check)"
}

# Cache key: content of the pom, so editing the Kafka version re-resolves.
pom_hash() { cksum <"$POM" | awk '{print $1 "-" $2}'; }

lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
}

cmd_fetch() {
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(pom_hash)" ]] && compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH — install Maven 3.x to fetch the Kafka broker jars"
  need_java
  log "resolving Kafka broker jars with mvn into ${LIB#"$ROOT"/} (first run only)..."
  local tmp="$CACHE/lib.tmp.$$"
  rm -rf "$tmp"
  # (mvn -q still emits ANSI resets; strip them. pipefail keeps mvn's exit status.)
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; then
    rm -rf "$tmp"
    die "mvn failed to resolve the Kafka jars (see output above)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "mvn did not produce kafka_2.13-*.jar"; }
  pom_hash >"$tmp/.stamp"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
  log "cached $(find "$LIB" -name '*.jar' | wc -l | tr -d ' ') jars ($(ls "$LIB"/kafka_2.13-*.jar | sed 's/.*kafka_2.13-\(.*\)\.jar/kafka \1/'))"
}

# state file: shell-style KEY=value lines (no quoting needed: no spaces in values expected,
# but we read it line by line instead of sourcing it).
read_state() {
  S_PID=""; S_ADDR=""; S_DIR=""
  [[ -f "$STATE" ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    case "$k" in
      pid) S_PID="$v" ;;
      address) S_ADDR="$v" ;;
      dir) S_DIR="$v" ;;
    esac
  done <"$STATE"
  [[ -n "$S_PID" ]]
}

# Is $1 alive and really our broker (a java kafka.Kafka process)?
is_our_broker() {
  local pid="$1" args
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  args="$(ps -p "$pid" -o args= 2>/dev/null || true)"
  [[ "$args" == *kafka.Kafka*"$RUN"/broker-* ]]
}

# True when the state file names a live broker of ours (sets S_PID/S_ADDR/S_DIR).
is_running() {
  read_state && is_our_broker "$S_PID"
}

# Kill the broker pid (TERM, wait, KILL) and remove its dir.
kill_broker() {
  local pid="$1" dir="$2" timeout="${KAFKA_STOP_TIMEOUT:-20}" i
  if is_our_broker "$pid"; then
    log "stopping broker pid $pid..."
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      is_our_broker "$pid" || break
      sleep 0.1
    done
    if is_our_broker "$pid"; then
      log "broker pid $pid still alive after ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  if [[ -n "$dir" && "$dir" == "$RUN"/broker-* ]]; then rm -rf "$dir"; fi
}

cmd_stop() {
  lock
  if read_state; then
    kill_broker "$S_PID" "$S_DIR"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$STATE"
}

cmd_status() {
  if is_running; then
    printf '%s\n' "$S_ADDR"
    return 0
  fi
  log "not running"
  return 1
}

# Two distinct free TCP ports on 127.0.0.1 (both held open while choosing).
free_ports() {
  node -e '
    const net = require("net");
    const servers = [];
    const next = () => {
      if (servers.length === 2) {
        console.log(servers.map((s) => s.address().port).join(" "));
        servers.forEach((s) => s.close());
        return;
      }
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => { servers.push(s); next(); });
    };
    next();'
}

# Random 16-byte cluster id, base64url without padding (what Kafka's Uuid.randomUuid prints;
# like Kafka, avoid a leading "-" so the id is never mistaken for a CLI option).
cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* && ${#id} -eq 22 ]] && { printf '%s\n' "$id"; return; }
  done
}

write_log4j() {
  cat >"$1/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$1/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=1
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

# Globals used by the cleanup trap while start is in progress.
START_PID=""
START_DIR=""
start_cleanup() {
  local rc=$?
  if [[ -n "$START_DIR" ]]; then
    if [[ -n "$START_PID" ]]; then kill_broker "$START_PID" ""; fi
    if [[ "${KAFKA_KEEP_FAILED:-}" == 1 ]]; then
      log "kept failed run dir: $START_DIR"
    else
      rm -rf "$START_DIR"
    fi
    rm -f "$STATE"
  fi
  exit "$rc"
}

# One attempt: returns 0 when ready, 3 when the ports were taken (caller retries), else dies.
start_once() {
  local ports port cport dir id heap jvm timeout rc=0
  ports="$(free_ports)" || die "could not pick free ports"
  port="${ports%% *}"; cport="${ports##* }"
  mkdir -p "$RUN"
  dir="$(mktemp -d "$RUN/broker-XXXXXX")"
  START_DIR="$dir"; START_PID=""
  mkdir -p "$dir/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CPORT@|$cport|g" -e "s|@DATA_DIR@|$dir/data|g" \
    "$TEMPLATE" >"$dir/server.properties"
  write_log4j "$dir"

  heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  jvm="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError}"
  local -a java_opts
  # shellcheck disable=SC2206 # intentional word splitting of option strings
  java_opts=($heap $jvm -Djava.awt.headless=true -Dkafka.logs.dir="$dir"
    -Dlog4j.configuration="file:$dir/log4j.properties")

  id="$(cluster_id)"
  log "formatting KRaft storage (cluster id $id)..."
  if ! java -Xshare:auto -XX:TieredStopAtLevel=1 -Xmx256m -Dlog4j.configuration="file:$dir/log4j.properties" \
      -cp "$LIB/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
      >"$dir/format.log" 2>&1 9>&-; then
    cat "$dir/format.log" >&2
    die "kafka-storage format failed"
  fi

  log "starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport), logs in ${dir#"$ROOT"/}/server.log"
  # Detached (own session, no inherited stdio or lock fd) so callers capturing our stdout
  # (ADDR=$(scripts/kafka.sh start)) do not hang and Ctrl-C in the caller does not reach it.
  setsid java "${java_opts[@]}" -cp "$LIB/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/stdout.log" 2>&1 9>&- &
  START_PID=$!
  printf 'pid=%s\naddress=127.0.0.1:%s\ndir=%s\ncontroller=127.0.0.1:%s\n' \
    "$START_PID" "$port" "$dir" "$cport" >"$STATE.tmp"
  mv "$STATE.tmp" "$STATE"

  timeout="${KAFKA_START_TIMEOUT:-60}"
  node "$WAIT_JS" "127.0.0.1:$port" --timeout "$timeout" --pid "$START_PID" 9>&- || rc=$?
  if ((rc == 0)); then
    START_DIR=""; START_PID=""
    printf '127.0.0.1:%s\n' "$port"
    return 0
  fi
  if ((rc == 2)) && grep -qE 'BindException|Address already in use' "$dir/server.log" "$dir/stdout.log" 2>/dev/null; then
    log "port race lost (address already in use), retrying with new ports"
    kill_broker "$START_PID" "$dir"
    START_DIR=""; START_PID=""
    rm -f "$STATE"
    return 3
  fi
  log "broker did not become ready; last lines of server.log / stdout.log:"
  tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
  tail -n 10 "$dir/stdout.log" >&2 2>/dev/null || true
  die "broker failed to start"
}

cmd_start() {
  need_java
  need_node
  [[ -f "$WAIT_JS" && -f "$TEMPLATE" ]] || die "missing files under scripts/kafka/"
  lock
  if is_running; then
    log "broker already running (pid $S_PID)"
    printf '%s\n' "$S_ADDR"
    return 0
  fi
  if read_state; then
    log "removing stale state of dead broker pid $S_PID"
    kill_broker "$S_PID" "$S_DIR"
    rm -f "$STATE"
  fi
  cmd_fetch
  trap start_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local attempt rc
  for attempt in 1 2 3; do
    rc=0
    start_once || rc=$?
    ((rc == 3)) || break
  done
  trap - EXIT INT TERM
  ((rc == 0)) || die "could not start the broker after $attempt attempts"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  fetch) lock; cmd_fetch ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
