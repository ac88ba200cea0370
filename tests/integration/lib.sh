# lib.sh - harness for integration tests (sourced): real redis-server and mosquitto on free
# loopback ports in a temporary directory, the real binaries, waits on conditions with
# deadlines, and cleanup of every process it started.
#
# Environment: CS_BIN (directory holding swarm-agent, swarm-coordinator, swarm-cli),
# KEEP_TMP=1 keeps the temporary directory for inspection, CS_WRAP runs the agents and
# coordinators under a command (scripts/valgrind: CS_WRAP="valgrind ...").

set -euo pipefail

SKIP=77
: "${CS_BIN:?CS_BIN must point at the directory with the built binaries}"
for tool in redis-server redis-cli mosquitto mosquitto_sub mosquitto_pub jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps installs it)"; exit $SKIP; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cs-itest.XXXXXX")
PGIDS=()      # process groups we started (daemons)
PIDS=()       # plain background processes (subscribers)
NS=swarm
TEST_NAME=$(basename "$0" .sh)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)

log() { local d=$(( $(now_ms) - T0 )); printf '[%s +%d.%03ds] %s\n' "$TEST_NAME" $((d / 1000)) $((d % 1000)) "$*"; }

dump_logs() {
  for f in "$T"/*.log; do
    [ -f "$f" ] || continue
    echo "----- $(basename "$f") (last 30 lines) -----"
    tail -n 30 "$f"
  done
}

fail() {
  echo "FAIL: $*" >&2
  dump_logs >&2
  exit 1
}

# on_cleanup 'SHELL CODE': run at exit before the harness stops its own processes, newest
# first, even when the test fails (processes the test did not spawn, network namespaces...).
CLEANUP_HOOKS=()
on_cleanup() { CLEANUP_HOOKS+=("$1"); }

cleanup() {
  local rc=$?
  set +e
  local h
  for (( h=${#CLEANUP_HOOKS[@]}-1; h>=0; h-- )); do eval "${CLEANUP_HOOKS[$h]}"; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
  local deadline=$((SECONDS + 8))
  for g in "${PGIDS[@]}"; do
    while kill -0 -- "-$g" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL -- "-$g" 2>/dev/null
  done
  # A background job of ours still running by now ignored SIGTERM (a subscriber whose broker
  # went away as it was disconnecting retries the connection): `wait` would never return.
  local j
  deadline=$((SECONDS + 2))
  for j in $(jobs -p); do
    while kill -0 "$j" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -0 "$j" 2>/dev/null || continue
    echo "cleanup: killing $(ps -o args= -p "$j" 2>/dev/null), still running after SIGTERM"
    kill -KILL "$j" 2>/dev/null
  done
  wait 2>/dev/null
  # Nothing this test started may outlive it.
  local left
  left=$(pgrep -f -- "$T" || true)
  if [ -n "$left" ]; then
    echo "FAIL: processes left behind: $(ps -o pid=,args= -p $left | tr '\n' ';')"
    kill -KILL $left 2>/dev/null
    [ $rc -eq 0 ] && rc=1
  fi
  # Sanitizer builds: any report in a process log fails the test (processes report at exit).
  if grep -l -E '(ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR SUMMARY: [1-9])' "$T"/*.log >/dev/null 2>&1; then
    echo "FAIL: sanitizer or valgrind report in:" $(grep -l -E '(ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR SUMMARY: [1-9])' "$T"/*.log)
    grep -h -B 30 -A 30 -E '(ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR SUMMARY: [1-9])' "$T"/*.log | sed -n 1,120p
    [ $rc -eq 0 ] && rc=1
  fi
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    [ $rc -ne 0 ] && echo "logs kept in $T"
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on 127.0.0.1 nobody listens on, below the ephemeral range (client sockets take
# those). Servers are started with retries in case another process takes the port first.
free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND... : poll every 100 ms until COMMAND succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  # `wait_for ... test "$(x)" ...` would test a value computed once, before the first poll.
  case "$1" in test|\[) fail "wait_for '$what': use wait_eval for conditions with \$(...)";; esac
  local deadline=$(( $(now_ms) + timeout * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ "$(now_ms)" -gt "$deadline" ]; then
      fail "timed out after ${timeout}s waiting for: $what"
    fi
    sleep 0.1
  done
}

# An observation window (measuring a rate), not a wait for a condition: returns at T_MS.
window_until() {
  local left=$(( $1 - $(now_ms) ))
  [ $left -gt 0 ] && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
  return 0
}

# wait_eval DESCRIPTION TIMEOUT_S 'SHELL CODE' : like wait_for, for conditions that must be
# re-evaluated each time (command substitutions): the code is eval'ed on every poll.
wait_eval() {
  local what=$1 timeout=$2 code=$3
  local deadline=$(( $(now_ms) + timeout * 1000 ))
  while :; do
    if eval "$code" >/dev/null 2>&1; then return 0; fi
    [ "$(now_ms)" -gt "$deadline" ] && fail "timed out after ${timeout}s waiting for: $what"
    sleep 0.1
  done
}

# Runs a command in its own process group, in the background; records the group for cleanup
# and leaves its id in LAST_PGID. (Never call it in $(...): the record would be lost.)
spawn() {
  local logfile=$1; shift
  setsid "$@" >>"$logfile" 2>&1 &
  LAST_PGID=$!
  PGIDS+=("$LAST_PGID")
}

# True once no process of the group PGID is left (bash's kill: dash's rejects `--`).
group_gone() { ! kill -0 -- "-$1" 2>/dev/null; }

# server_up PGID READY_CMD... : after spawning a server, wait until it answers (false if it died).
server_up() {
  local pgid=$1; shift
  for _ in $(seq 1 100); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pgid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_redis() {
  local pgid
  REDIS_ARGS=(--appendonly no "$@")
  for _ in 1 2 3 4 5; do
    REDIS_PORT=$(free_port)
    spawn "$T/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T" \
      --save "" --daemonize no "${REDIS_ARGS[@]}"
    pgid=$LAST_PGID
    REDIS_PGID=$pgid
    server_up "$pgid" redis-cli -p "$REDIS_PORT" ping && break
    REDIS_PORT=
  done
  [ -n "$REDIS_PORT" ] || fail "redis-server did not start"
  export SWARM_REDIS="redis://127.0.0.1:$REDIS_PORT/0"
}

# Stops Redis (SIGTERM: an append-only file is flushed) and starts it again on the same port
# with the same arguments. Waits until it answers.
REDIS_ARGS=()
restart_redis() {
  kill -TERM -- "-$REDIS_PGID" 2>/dev/null
  wait_for "redis-server to exit" 10 group_gone "$REDIS_PGID"
  [ "${1:-0}" = 0 ] || window_until $(( $(now_ms) + $1 ))   # optional outage length, ms
  spawn "$T/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T" \
    --save "" --daemonize no "${REDIS_ARGS[@]}"
  REDIS_PGID=$LAST_PGID
  server_up "$REDIS_PGID" redis-cli -p "$REDIS_PORT" ping || fail "redis-server did not restart"
}

# Extra lines for mosquitto.conf (set before start_mosquitto): MOSQ_GLOBAL goes first (options
# such as per_listener_settings), MOSQ_CONF after the test's plain listener.
MOSQ_GLOBAL=${MOSQ_GLOBAL:-}
MOSQ_CONF=${MOSQ_CONF:-}
start_mosquitto() {
  local pgid
  chmod 711 "$T"   # mosquitto drops to its own user: let it reach the files a test gives it
  for _ in 1 2 3 4 5; do
    MQTT_PORT=$(free_port)
    cat >"$T/mosquitto.conf" <<CONF
$MOSQ_GLOBAL
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
max_connections -1
set_tcp_nodelay ${MOSQ_NODELAY:-true}
${MOSQ_CONF:-persistence false}
CONF
    spawn "$T/mosquitto.log" mosquitto -c "$T/mosquitto.conf"
    pgid=$LAST_PGID
    MQTT_PGID=$pgid
    server_up "$pgid" mosquitto_pub -p "$MQTT_PORT" -t cs/ping -m x && break
    MQTT_PORT=
  done
  [ -n "$MQTT_PORT" ] || fail "mosquitto did not start"
}

# Stops mosquitto (SIGTERM: a persistent store is written) and starts it again on the same
# port after OUTAGE_MS (default 0). Waits until it answers.
restart_mosquitto() {
  kill -TERM -- "-$MQTT_PGID" 2>/dev/null
  wait_for "mosquitto to exit" 10 group_gone "$MQTT_PGID"
  [ "${1:-0}" = 0 ] || window_until $(( $(now_ms) + $1 ))
  spawn "$T/mosquitto.log" mosquitto -c "$T/mosquitto.conf"
  MQTT_PGID=$LAST_PGID
  server_up "$MQTT_PGID" mosquitto_pub -p "$MQTT_PORT" -t cs/ping -m x || fail "mosquitto did not restart"
}

# redis-cli on the test's Redis; RCLI_AUTH holds its credentials once the test sets some.
RCLI_AUTH=()
rcli() { redis-cli -p "$REDIS_PORT" "${RCLI_AUTH[@]}" "$@"; }
cli() { "$CS_BIN/swarm-cli" "$@"; }

# A fleet of N chargers pointed at our broker; extra args: more "key value" fleet settings.
# CS_MQTT_CLIENT=paho|mosquitto runs the test's chargers on that MQTT client library (unset:
# the default, mosquitto).
setup_fleet() {
  local size=$1; shift
  rcli HSET "$NS:cfg" broker "tcp://127.0.0.1:$MQTT_PORT" >/dev/null
  if [ -n "${CS_MQTT_CLIENT:-}" ]; then rcli HSET "$NS:cfg" mqtt_client "$CS_MQTT_CLIENT" >/dev/null; fi
  rcli HSET "$NS:fleet" size "$size" "$@" >/dev/null
}

# start_coordinator [SUFFIX [more flags]]: id coord$SUFFIX, log coordinator$SUFFIX.log.
start_coordinator() {
  local sfx=${1:-}; shift $(($# > 0 ? 1 : 0))
  spawn "$T/coordinator$sfx.log" ${CS_WRAP:-} "$CS_BIN/swarm-coordinator" --tick-ms 200 --id "coord$sfx" "$@"
}

# start_agent NAME WORKERS MAX_CHARGERS [more flags]: its process group id is in LAST_PGID.
start_agent() {
  local name=$1 workers=$2 max=$3; shift 3
  spawn "$T/agent-$name.log" ${CS_WRAP:-} "$CS_BIN/swarm-agent" --name "$name" --workers "$workers" \
    --max-chargers "$max" "$@"
}

# Subscribe to a topic filter; FILE gets "<unix seconds.ns> <topic> <payload>" lines (read them
# with mqtt_lines). Returns once the broker has acknowledged the subscription.
mqtt_sub() {
  local topic=$1 file=$2
  stdbuf -oL mosquitto_sub -p "$MQTT_PORT" -d -F '%U %t %p' -t "$topic" >"$file" 2>&1 &
  PIDS+=("$!")
  wait_for "MQTT subscription to $topic" 5 grep -q "received SUBACK" "$file"
}

# The messages of a mqtt_sub file, without the client's debug lines.
mqtt_lines() { grep -v -e '^Client ' -e '^Subscribed ' "$1" || true; }

# Subscribe to Redis channels; raw redis-cli output goes to FILE.
redis_sub() {
  local file=$1; shift
  : >"$file"
  redis-cli -p "$REDIS_PORT" SUBSCRIBE "$@" >"$file" &
  PIDS+=("$!")
  wait_for "redis subscription to $*" 5 grep -q "^subscribe" "$file"
}

# A platform that answers every CALL (tools/fake-csms); extra args go to it. Its log of every
# message in and out is $T/csms.jsonl.
start_csms() {
  spawn "$T/csms.log" "$CS_BIN/fake-csms" --broker "tcp://127.0.0.1:$MQTT_PORT" \
    --log "$T/csms.jsonl" "$@"
  wait_for "fake-csms subscribed" 10 grep -q "ready" "$T/csms.log"
}

# Publishes a downlink frame to one charger.
down() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t "chargers/$1/down" -m "$2"; }

# The payload of the first message on TOPIC (exact) in an mqtt_sub file whose frame contains
# TEXT; empty when none.
frame_of() { mqtt_lines "$1" | awk -v t="$2" '$2 == t' | grep -F -- "${3:-}" | sed -n 1p | cut -d' ' -f3-; }
has_frame() { [ -n "$(frame_of "$@")" ]; }

# Validates every charger message captured in FILE against the OCPP 1.6 JSON schemas.
validate_ocpp() {
  /usr/bin/python3 "$(dirname "$0")/../schemas/validate.py" "$@"
}

# Fleet-wide connected count from swarm-cli status --json.
connected() { cli --json status 2>/dev/null | jq -r '.fleet.connected'; }
connected_is() { [ "$(connected)" = "$1" ]; }

# Test certificates made here with openssl, in the directory $C (EC P-256, two days):
# tls_key FILE; tls_ca NAME CN: a self-signed CA NAME.pem/NAME.key; tls_sign NAME CN EXT:
# NAME.pem/NAME.key signed by ca.pem, EXT an openssl extension line (subjectAltName=...).
tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
tls_ca() {
  tls_key "$C/$1.key"
  openssl req -x509 -new -key "$C/$1.key" -subj "/CN=$2" -days 2 -out "$C/$1.pem" 2>/dev/null
}
tls_sign() {
  tls_key "$C/$1.key"
  openssl req -new -key "$C/$1.key" -subj "/CN=$2" -out "$C/$1.csr" 2>/dev/null
  openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
    -days 2 -out "$C/$1.pem" -extfile <(printf '%s\n' "$3") 2>/dev/null
}

# ---- network namespaces as hosts (root only) -------------------------------------------------------
# netns_lab N NET: a hub namespace with a bridge at NET.1 and N host namespaces at NET.11,
# NET.12, ... each linked to the bridge by a veth pair (NET is three octets, e.g. 10.78.0).
# Sets HUB and NETNS_P (name prefix); host_ns I names host I's namespace; netns_link I up|down
# cuts or restores host I's link. Everything is removed at exit. Skips the test (exit 77) where
# namespaces cannot be created.
netns_lab() {
  local n=$1 net=$2 i
  command -v ip >/dev/null || { echo "SKIP: ip (iproute2) not installed"; exit $SKIP; }
  NETNS_P=cs$$                   # interface names stay within 15 characters
  HUB=${NETNS_P}hub
  NETNS=()
  on_cleanup 'for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done'
  if [ "$(id -u)" -ne 0 ] || ! ip netns add "$HUB" 2>"$T/netns.err"; then
    echo "SKIP: cannot create network namespaces here (need root with CAP_SYS_ADMIN and CAP_NET_ADMIN): $(cat "$T/netns.err" 2>/dev/null)"
    exit $SKIP
  fi
  NETNS+=("$HUB")
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link add br0 type bridge || { echo "SKIP: cannot create a bridge"; exit $SKIP; }
  ip -n "$HUB" addr add "$net.1/24" dev br0
  ip -n "$HUB" link set br0 up
  for i in $(seq 1 "$n"); do
    ip netns add "$(host_ns "$i")"
    NETNS+=("$(host_ns "$i")")
    ip -n "$(host_ns "$i")" link set lo up
    ip link add "${NETNS_P}v$i" type veth peer name "${NETNS_P}p$i"
    ip link set "${NETNS_P}v$i" netns "$HUB"
    ip link set "${NETNS_P}p$i" netns "$(host_ns "$i")"
    ip -n "$HUB" link set "${NETNS_P}v$i" master br0 up
    ip -n "$(host_ns "$i")" addr add "$net.1$i/24" dev "${NETNS_P}p$i"
    ip -n "$(host_ns "$i")" link set "${NETNS_P}p$i" up
  done
}
host_ns() { echo "${NETNS_P}h$1"; }
hub() { ip netns exec "$HUB" "$@"; }
# The hub's side of host I's link goes down (or up): a partition, as a pulled cable.
netns_link() { ip -n "$HUB" link set "${NETNS_P}v$1" "$2"; }
# hub_servers NET: redis-server (6379) and mosquitto (1883) in the hub on NET.1, and the
# harness's rcli and cli redefined to run there; SWARM_REDIS points at that Redis.
hub_servers() {
  local net=$1
  spawn "$T/redis.log" ip netns exec "$HUB" redis-server --port 6379 --bind "$net.1" --dir "$T" \
    --save "" --appendonly no --daemonize no --protected-mode no
  server_up "$LAST_PGID" hub redis-cli -h "$net.1" -p 6379 ping || fail "redis-server did not start"
  cat >"$T/mosquitto.conf" <<CONF
listener 1883 $net.1
allow_anonymous true
max_connections -1
persistence false
set_tcp_nodelay ${MOSQ_NODELAY:-true}
CONF
  spawn "$T/mosquitto.log" ip netns exec "$HUB" mosquitto -c "$T/mosquitto.conf"
  server_up "$LAST_PGID" hub mosquitto_pub -h "$net.1" -p 1883 -t cs/ping -m x || fail "mosquitto did not start"
  HUB_NET=$net
  export SWARM_REDIS=redis://$net.1:6379/0
  rcli() { hub redis-cli -h "$HUB_NET.1" -p 6379 "$@"; }
  cli() { hub "$CS_BIN/swarm-cli" "$@"; }
}
