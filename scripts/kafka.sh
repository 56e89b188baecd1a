#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, single node: broker+controller) for tests. No Docker.
#
#   scripts/kafka.sh fetch    resolve the broker jars into .cache/kafka/lib (mvn; once)
#   scripts/kafka.sh start    start a broker (or reuse the running one, or `up` a downed one);
#                             last stdout line = HOST:PORT
#   scripts/kafka.sh status   print HOST:PORT and exit 0 if running, exit 1 otherwise (also when down)
#   scripts/kafka.sh down     fault injection: stop the broker process (TERM, then KILL after
#                             KAFKA_STOP_TIMEOUT) but keep its data, ports and cluster id
#   scripts/kafka.sh up       restart a downed broker on the same address/data (no re-format);
#                             fails if its port was taken meanwhile; last stdout line = HOST:PORT
#   scripts/kafka.sh stop     stop the broker (running or down) and delete its data
#
# Stdout carries only the bootstrap address (start/status/up); progress goes to stderr.
# Everything lives under <repo>/.cache/kafka/ (git-ignored):
#   lib/          broker jars + .stamp        run/state        pid/address/dir, state=up|down
#   run/broker-*/ server.properties, data/, server.log, stdout.log (deleted by stop, kept by down)
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
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
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
# but we read it line by line instead of sourcing it). Keys: pid (empty while down), address,
# dir, controller, state (up|down; a file without it is "up").
read_state() {
  S_PID=""; S_ADDR=""; S_DIR=""; S_CTRL=""; S_STATE=""
  [[ -f "$STATE" ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    case "$k" in
      pid) S_PID="$v" ;;
      address) S_ADDR="$v" ;;
      dir) S_DIR="$v" ;;
      controller) S_CTRL="$v" ;;
      state) S_STATE="$v" ;;
    esac
  done <"$STATE"
  [[ "$S_STATE" == down ]] || S_STATE=up
  [[ -n "$S_PID" || ("$S_STATE" == down && -n "$S_DIR") ]]
}

# write_state PID ADDRESS DIR CONTROLLER up|down (atomically)
write_state() {
  printf 'pid=%s\naddress=%s\ndir=%s\ncontroller=%s\nstate=%s\n' "$1" "$2" "$3" "$4" "$5" >"$STATE.tmp"
  mv "$STATE.tmp" "$STATE"
}

# Is $1 alive and really our broker (a java kafka.Kafka process)?
is_our_broker() {
  local pid="$1" args
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  args="$(ps -p "$pid" -o args= 2>/dev/null || true)"
  [[ "$args" == *kafka.Kafka*"$RUN"/broker-* ]]
}

# True when the state file names a live broker of ours (sets S_PID/S_ADDR/S_DIR/...).
is_running() {
  read_state && [[ "$S_STATE" == up ]] && is_our_broker "$S_PID"
}

# Stop the broker pid if it is ours: TERM, wait up to KAFKA_STOP_TIMEOUT, then KILL.
terminate_broker() {
  local pid="$1" timeout="${KAFKA_STOP_TIMEOUT:-20}" i
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
      for ((i = 0; i < 50; i++)); do is_our_broker "$pid" || break; sleep 0.1; done
    fi
  fi
}

# Kill the broker pid (TERM, wait, KILL) and remove its dir.
kill_broker() {
  local dir="$2"
  terminate_broker "$1"
  if [[ -n "$dir" && "$dir" == "$RUN"/broker-* ]]; then rm -rf "$dir"; fi
}

# Stop any broker of ours (kafka.Kafka on a run/broker-*/server.properties) that the state file
# does not name (e.g. the state file was lost) and delete its run dir. Only call with the lock
# held, after the broker named by the state file has been dealt with.
sweep_orphans() {
  local pid args dir
  while read -r pid args; do
    [[ "$pid" =~ ^[0-9]+$ && "$args" == *kafka.Kafka*"$RUN"/broker-* ]] || continue
    log "found orphan broker pid $pid"
    dir="${args##* }"; dir="${dir%/server.properties}"
    kill_broker "$pid" "$dir"
  done < <(ps -eo pid=,args= 2>/dev/null || true)
}

cmd_stop() {
  lock
  if read_state; then
    kill_broker "$S_PID" "$S_DIR"
    log "stopped"
  else
    log "not running"
  fi
  sweep_orphans
  rm -f "$STATE"
}

cmd_status() {
  if is_running; then
    printf '%s\n' "$S_ADDR"
    return 0
  fi
  if read_state && [[ "$S_STATE" == down ]]; then
    log "down (run dir kept: ${S_DIR#"$ROOT"/}; scripts/kafka.sh up restarts it on $S_ADDR)"
  else
    log "not running"
  fi
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

# launch_broker DIR: start kafka.Kafka on DIR/server.properties in the background, detached
# (own session, no inherited stdio or lock fd) so callers capturing our stdout
# (ADDR=$(scripts/kafka.sh start)) do not hang and Ctrl-C in the caller does not reach it.
# Sets LAUNCH_PID. stdout.log is appended to, so the log of an earlier run (before down) stays.
LAUNCH_PID=""
launch_broker() {
  local dir="$1" heap jvm
  heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  jvm="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError}"
  local -a java_opts
  # shellcheck disable=SC2206 # intentional word splitting of option strings
  java_opts=($heap $jvm -Djava.awt.headless=true -Dkafka.logs.dir="$dir"
    -Dlog4j.configuration="file:$dir/log4j.properties")
  setsid java "${java_opts[@]}" -cp "$LIB/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$dir/stdout.log" 2>&1 9>&- &
  LAUNCH_PID=$!
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
  local ports port cport dir id timeout rc=0
  ports="$(free_ports)" || die "could not pick free ports"
  port="${ports%% *}"; cport="${ports##* }"
  mkdir -p "$RUN"
  dir="$(mktemp -d "$RUN/broker-XXXXXX")"
  START_DIR="$dir"; START_PID=""
  mkdir -p "$dir/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CPORT@|$cport|g" -e "s|@DATA_DIR@|$dir/data|g" \
    "$TEMPLATE" >"$dir/server.properties"
  write_log4j "$dir"

  id="$(cluster_id)"
  log "formatting KRaft storage (cluster id $id)..."
  if ! java -Xshare:auto -XX:TieredStopAtLevel=1 -Xmx256m -Dlog4j.configuration="file:$dir/log4j.properties" \
      -cp "$LIB/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
      >"$dir/format.log" 2>&1 9>&-; then
    cat "$dir/format.log" >&2
    die "kafka-storage format failed"
  fi

  log "starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport), logs in ${dir#"$ROOT"/}/server.log"
  launch_broker "$dir"
  START_PID=$LAUNCH_PID
  write_state "$START_PID" "127.0.0.1:$port" "$dir" "127.0.0.1:$cport" up

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
  if read_state && [[ "$S_STATE" == down ]]; then
    log "broker is down; bringing it back up (as scripts/kafka.sh up)"
    cmd_fetch
    up_locked
    return
  fi
  if read_state; then
    log "removing stale state of dead broker pid $S_PID"
    kill_broker "$S_PID" "$S_DIR"
    rm -f "$STATE"
  fi
  sweep_orphans
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

# --- down / up (fault injection) ---------------------------------------------------------

cmd_down() {
  lock
  read_state || die "no broker to take down (scripts/kafka.sh start creates one)"
  if [[ "$S_STATE" == down ]]; then
    log "broker already down (run dir ${S_DIR#"$ROOT"/} kept)"
    return 0
  fi
  [[ -f "$S_DIR/server.properties" ]] || die "run dir $S_DIR is gone; use scripts/kafka.sh stop"
  if is_our_broker "$S_PID"; then
    terminate_broker "$S_PID"
    ! is_our_broker "$S_PID" || die "broker pid $S_PID survived SIGKILL"
  else
    log "broker pid $S_PID was not running"
  fi
  write_state "" "$S_ADDR" "$S_DIR" "$S_CTRL" down
  log "down; run dir ${S_DIR#"$ROOT"/} kept, scripts/kafka.sh up restarts it on $S_ADDR"
}

# Exit 0 when 127.0.0.1:$1 can be bound now (nobody listens there), 1 when it is in use.
port_free() {
  node -e '
    const s = require("net").createServer();
    s.once("error", () => process.exit(1));
    s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close(() => process.exit(0)));' "$1" 9>&-
}

# Who listens on 127.0.0.1:$1 (best effort, for the error message).
port_holder() {
  local out=""
  if command -v ss >/dev/null 2>&1; then
    out="$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(.*)' | head -n1 || true)"
  fi
  [[ -n "$out" ]] && printf ' (%s)' "$out"
  return 0
}

UP_PID=""
UP_ARMED=""
up_cleanup() {
  local rc=$?
  if [[ -n "$UP_ARMED" ]]; then
    if [[ -n "$UP_PID" ]]; then terminate_broker "$UP_PID"; fi
    write_state "" "$S_ADDR" "$S_DIR" "$S_CTRL" down
    log "broker left down (run dir ${S_DIR#"$ROOT"/} kept)"
  fi
  exit "$rc"
}

# Body of `up` (and of `start` on a downed broker); the lock is held and jars are fetched.
up_locked() {
  local port cport name p timeout rc=0 off_log off_out
  if is_running; then
    log "broker already running (pid $S_PID)"
    printf '%s\n' "$S_ADDR"
    return 0
  fi
  read_state || die "no broker to bring up (scripts/kafka.sh start creates one)"
  [[ "$S_STATE" == down ]] || log "broker pid $S_PID is dead; restarting it from its kept run dir"
  [[ -f "$S_DIR/server.properties" && -f "$S_DIR/data/meta.properties" ]] ||
    die "kept run dir ${S_DIR:-?} (server.properties, formatted data/) is gone; run scripts/kafka.sh stop, then start"
  port="${S_ADDR##*:}"
  if [[ -z "$S_CTRL" ]]; then # state written by an older kafka.sh
    S_CTRL="$(sed -n 's/^controller\.quorum\.voters=1@//p' "$S_DIR/server.properties" | head -n1)"
  fi
  cport="${S_CTRL##*:}"
  [[ "$port" =~ ^[0-9]+$ && "$cport" =~ ^[0-9]+$ ]] || die "cannot read the broker ports from $STATE"
  for p in "$port" "$cport"; do
    if ! port_free "$p"; then
      name=broker; [[ "$p" == "$cport" ]] && name=controller
      die "cannot bring the broker back up: its $name port 127.0.0.1:$p was taken by another process$(port_holder "$p") while it was down; free the port, or run scripts/kafka.sh stop and start for a new broker (new address)"
    fi
  done

  off_log="$(wc -c <"$S_DIR/server.log" 2>/dev/null || echo 0)"
  off_out="$(wc -c <"$S_DIR/stdout.log" 2>/dev/null || echo 0)"
  trap up_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  UP_ARMED=1
  log "bringing broker back up on $S_ADDR (controller $S_CTRL), same data dir, logs in ${S_DIR#"$ROOT"/}/server.log"
  launch_broker "$S_DIR"
  UP_PID=$LAUNCH_PID
  write_state "$UP_PID" "$S_ADDR" "$S_DIR" "$S_CTRL" up

  timeout="${KAFKA_START_TIMEOUT:-60}"
  node "$WAIT_JS" "$S_ADDR" --timeout "$timeout" --pid "$UP_PID" 9>&- || rc=$?
  if ((rc == 0)); then
    UP_ARMED=""; UP_PID=""
    trap - EXIT INT TERM
    printf '%s\n' "$S_ADDR"
    return 0
  fi
  if ((rc == 2)) && { tail -c +"$((off_log + 1))" "$S_DIR/server.log" 2>/dev/null
      tail -c +"$((off_out + 1))" "$S_DIR/stdout.log" 2>/dev/null; } | grep -qE 'BindException|Address already in use'; then
    die "cannot bring the broker back up: port 127.0.0.1:$port or 127.0.0.1:$cport was taken by another process while it was down (address already in use); run scripts/kafka.sh stop and start for a new broker"
  fi
  log "broker did not become ready; last lines of server.log / stdout.log:"
  tail -n 30 "$S_DIR/server.log" >&2 2>/dev/null || true
  tail -n 10 "$S_DIR/stdout.log" >&2 2>/dev/null || true
  die "broker failed to come back up"
}

cmd_up() {
  need_java
  need_node
  [[ -f "$WAIT_JS" ]] || die "missing files under scripts/kafka/"
  lock
  read_state || die "no broker to bring up (scripts/kafka.sh start creates one)"
  cmd_fetch
  up_locked
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  down) cmd_down ;;
  up) cmd_up ;;
  status) cmd_status ;;
  fetch) lock; cmd_fetch ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
