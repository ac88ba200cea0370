#!/usr/bin/env bash
# swarm-cli never shows Redis error replies as data. Against a Redis that requires a password,
# with none given, the read commands print the Redis reply on stderr (NOAUTH), nothing on
# stdout, and exit 3, as write commands do; other error replies (WRONGTYPE) likewise. With the
# password they work; agents --json is the agents table, not status --json. status --watch
# shows the error and keeps retrying: it recovers when Redis accepts it again, and after a
# Redis restart.
source "$(dirname "$0")/lib.sh"

N=4
start_redis
start_mosquitto
setup_fleet $N
printf '{"Hello": {"msg": "hi {id}"}}\n' >"$T/catalog.json"
cli catalog load "$T/catalog.json" >/dev/null || fail "catalog load"

rcli CONFIG SET requirepass x >/dev/null
RCLI_AUTH=(--no-auth-warning --pass x)
[ "$(redis-cli -p "$REDIS_PORT" ping 2>&1)" != PONG ] || fail "Redis still answers without a password"
NOPASS="redis://127.0.0.1:$REDIS_PORT/0"
GOOD="redis://:x@127.0.0.1:$REDIS_PORT/0"
export SWARM_REDIS=$GOOD   # the coordinator, the agent and `cli` from here on
start_coordinator
start_agent a1 2 $N
wait_for "$N chargers connected" 30 connected_is $N
wait_eval "coordinator elected" 10 '[ "$(cli --json status | jq -r .fleet.coordinator)" = coord ]'

# run NAME URL ARGS...: swarm-cli with that Redis URL; $T/NAME.out, $T/NAME.err, RC.
run() {
  local name=$1 url=$2; shift 2
  RC=0
  SWARM_REDIS=$url "$CS_BIN/swarm-cli" "$@" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
}

# refused NAME WANT URL ARGS...: exit 3, stderr "swarm-cli: Redis: ...WANT...", stdout empty.
refused() {
  local name=$1 want=$2 url=$3; shift 3
  run "$name" "$url" "$@"
  [ "$RC" = 3 ] || fail "swarm-cli $*: exit $RC, not 3; stdout: $(head -c 300 "$T/$name.out"); stderr: $(cat "$T/$name.err")"
  grep -q "^swarm-cli: Redis: .*$want" "$T/$name.err" || fail "swarm-cli $*: stderr does not name $want: $(cat "$T/$name.err")"
  [ ! -s "$T/$name.out" ] || fail "swarm-cli $*: printed on stdout despite the error: $(head -c 300 "$T/$name.out")"
}

# ---- no password: every read refuses with the Redis reply ----
# name | arguments
reads=(
  'config-get|config get'
  'config-get-key|config get heartbeat_s'
  'config-get-fleet|config get --fleet'
  'config-show|config show CP-000001'
  'config-layers|config layers'
  'status|status'
  'status-json|status --json'
  'json-status|--json status'
  'agents|agents'
  'agents-json|agents --json'
  'catalog-list|catalog list'
  'catalog-show|catalog show Hello'
  'replay|replay --from -1h --dry-run'
  'send|send trigger * Heartbeat'
)
for r in "${reads[@]}"; do
  read -r -a args <<<"${r#*|}"
  refused "noauth-${r%%|*}" NOAUTH "$NOPASS" "${args[@]}"
done
log "no password: ${#reads[@]} read commands exit 3 with the NOAUTH reply on stderr, nothing on stdout"

# Other error replies too: a key of the wrong type (another namespace, the fleet is untouched).
rcli SET other:catalog oops >/dev/null
rcli SET other:fleet oops >/dev/null
refused wrongtype-catalog WRONGTYPE "$GOOD" --namespace other catalog list
refused wrongtype-status WRONGTYPE "$GOOD" --namespace other status --json
refused wrongtype-config WRONGTYPE "$GOOD" --namespace other config show CP-000001
log "WRONGTYPE replies: exit 3 as well"

# ---- with the password: the same commands work ----
ok() {
  local name=$1; shift
  run "$name" "$GOOD" "$@"
  [ "$RC" = 0 ] || fail "swarm-cli $*: exit $RC; stderr: $(cat "$T/$name.err")"
  [ -s "$T/$name.out" ] || fail "swarm-cli $*: printed nothing"
  [ ! -s "$T/$name.err" ] || fail "swarm-cli $*: stderr: $(cat "$T/$name.err")"
}
ok get config get heartbeat_s
grep -qE '^heartbeat_s +60 +default' "$T/get.out" || fail "config get: $(cat "$T/get.out")"
ok show config show CP-000001
grep -qE '^broker +tcp://127.0.0.1:'"$MQTT_PORT"' +cfg' "$T/show.out" || fail "config show: $(cat "$T/show.out")"
ok status status
grep -q "coordinator coord" "$T/status.out" || fail "status: $(cat "$T/status.out")"
ok catalog catalog list
grep -q '^Hello ' "$T/catalog.out" || fail "catalog list: $(cat "$T/catalog.out")"
ok status-json status --json
jq -e --argjson n $N '.fleet.coordinator == "coord" and .fleet.workers == 2 and .fleet.connected == $n
  and (.workers | length) == 2' "$T/status-json.out" >/dev/null || fail "status --json: $(cat "$T/status-json.out")"

# agents --json: the agents table as an array of objects, not the status document.
ok agents agents
ok agents-json agents --json
jq -e --argjson n $N 'type == "array" and length == 2
  and all(.[]; (.name | startswith("a1.w")) and (.pid > 0) and (.lease_ms_left > 0)
               and (.host | length > 0) and (.held | length > 0) and has("capacity"))
  and (map(.connected) | add) == $n and (map(.chargers) | add) == $n' "$T/agents-json.out" >/dev/null ||
  fail "agents --json: $(cat "$T/agents-json.out")"
cmp -s "$T/agents-json.out" "$T/status-json.out" && fail "agents --json prints the status --json document"
for w in $(jq -r '.[].name' "$T/agents-json.out"); do
  grep -q "^$w " "$T/agents.out" || fail "agents --json has $w, the table does not: $(cat "$T/agents.out")"
done
run agents-bad "$GOOD" agents --jsno
[ "$RC" = 2 ] || fail "agents --jsno: exit $RC, not 2 (usage)"
log "with the password: the reads work; agents --json is an array of the table's rows"

# ---- status --watch: errors are shown, and it keeps going ----
spawn "$T/watch.log" env SWARM_REDIS="$NOPASS" bash -c \
  'exec "$0" --json status --watch --interval 0.2 >"$1" 2>"$2"' "$CS_BIN/swarm-cli" "$T/watch.out" "$T/watch.err"
watch_pgid=$LAST_PGID
errors() { grep -c "^swarm-cli: Redis: $1.*(retrying)" "$T/watch.err" || true; }
frames() { grep -c '^{"fleet"' "$T/watch.out" || true; }
wait_eval "the watch to show NOAUTH three times" 10 '[ "$(errors NOAUTH)" -ge 3 ]'
kill -0 "$watch_pgid" || fail "status --watch exited on an error reply"
[ "$(frames)" = 0 ] || fail "status --watch printed a status while Redis refused it: $(head -c 300 "$T/watch.out")"
rcli CONFIG SET requirepass "" >/dev/null
RCLI_AUTH=()
wait_eval "the watch to recover once Redis lets it in" 10 '[ "$(frames)" -ge 2 ]'
tail -n 1 "$T/watch.out" | jq -e '.fleet.workers == 2' >/dev/null || fail "watch: $(tail -n 1 "$T/watch.out")"
# A Redis restart (one second down): connection errors shown, then statuses again.
before_err=$(grep -c '(retrying)' "$T/watch.err")
restart_redis 1000
after_restart=$(frames)
wait_eval "statuses again after the restart" 10 '[ "$(frames)" -gt "$after_restart" ]'
[ "$(grep -c '(retrying)' "$T/watch.err")" -gt "$before_err" ] || fail "no error shown while Redis was down"
kill -0 "$watch_pgid" || fail "status --watch exited when Redis restarted"
if grep -v '^{"fleet"' "$T/watch.out" | grep -q .; then fail "watch stdout has non-JSON lines"; fi
log "ok: read commands exit 3 on Redis errors; status --watch shows them and recovers"
