#!/usr/bin/env bash
# Hostile input against a running fleet: nothing published on the command channel, written in
# a key or started twice may stall a worker, split the fleet or lie in a reply.
#  1. a repeating command scheduled far in the past does not freeze the worker (no stall, the
#     lease holds, no charger reconnects);
#  2. an `assign` published by anyone is an unknown verb: the assignment stays the coordinator's;
#  3. a command claiming a command-log position in the future does not switch catch-up off;
#  4. a command whose ts= is from 1970 does not poison the command latency;
#  5. 200 triggers to one charger at once: the reply counts what could not be sent as failed;
#  6. info= longer than OCPP's 50 characters is refused on `status` as on `fault`;
#  7. a wrong type on {ns}:cfg: `reload cfg` says so, an event names the key, chargers keep
#     their config; on {ns}:assign: the fleet stays up, an event names the key;
#  8. keyspace notifications switched off are noticed and switched on again;
#  9. a shorter lease_ms set live never lapses the lease;
# 10. a second agent started with the same --name stops with an error; the first runs on.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 50 lease_ms 2000
start_coordinator
start_agent a1 1 50
wait_for "50 chargers connected" 30 connected_is 50
redis_sub "$T/bus.txt" "$NS:reply" "$NS:events"
W=a1.w0
stat() { rcli --raw HGET "$NS:stats:$W" "$1"; }
# The payloads published on CHANNEL so far, one per line.
bus() { awk -v c="$1" '$0 == "message" { getline ch; getline p; if (ch == c) print p }' "$T/bus.txt"; }
reply_of() { bus "$NS:reply" | jq -c --arg id "$1" 'select(.id == $id)' 2>/dev/null | sed -n 1p; }
has_reply() { [ -n "$(reply_of "$1")" ]; }
# (jq -e succeeds on empty input: count what it prints instead)
event_seen() { bus "$NS:events" | jq -c --arg t "$1" 'select(.type == $t)' 2>/dev/null | grep -q .; }
key_event() { bus "$NS:events" | jq -c --arg k "$1" 'select(.type == "key_unreadable" and .key == $k)' 2>/dev/null | grep -q .; }
lost0=$(stat lease_lost) conn0=$(stat connects)

# --- 1. a schedule from the distant past ---------------------------------------------------------
rcli PUBLISH "$NS:cmd" '@past trigger CP-000001 Heartbeat at=1 every=100ms count=3' >/dev/null
wait_for "the reply to the past schedule" 5 has_reply past
rcli PUBLISH "$NS:cmd" '@after ping' >/dev/null
wait_for "a ping answered right after it" 2 has_reply after
sleep_until=$(( $(now_ms) + 3000 ))
window_until "$sleep_until"   # three lease refresh periods
! event_seen loop_stall || fail "the worker stalled: $(bus "$NS:events" | grep loop_stall | sed -n 1p)"
[ "$(stat lease_lost)" = "$lost0" ] || fail "the lease lapsed"
[ "$(stat connects)" = "$conn0" ] || fail "chargers reconnected: connects $conn0 -> $(stat connects)"
log "1. at=1 every=100ms: answered, no stall, lease kept, no reconnects"

# --- 2. assign from a stranger ---------------------------------------------------------------
before=$(rcli --raw HGET "$NS:assign" "$W")
rcli PUBLISH "$NS:cmd:$W" '@stranger assign epoch=999999 ranges=1-200' >/dev/null
rcli PUBLISH "$NS:cmd" '{"id":"stranger2","cmd":"assign","args":{"epoch":2000000,"ranges":""}}' >/dev/null
wait_for "the refusals" 5 has_reply stranger2
reply_of stranger | jq -e '.refused == true and (.errors[0] | test("unknown verb"))' >/dev/null ||
  fail "assign was not refused: $(reply_of stranger)"
# Even a notice on the control channel only makes the worker read its own line.
rcli PUBLISH "$NS:ctl:$W" 'assign epoch=999999 ranges=1-200' >/dev/null
window_until $(( $(now_ms) + 1000 ))
[ "$(rcli --raw HGET "$NS:assign" "$W")" = "$before" ] || fail "the assignment changed"
connected_is 50 || fail "chargers went offline: $(connected) connected"
log "2. assign on the command channels refused; assignment unchanged ($before), 50 connected"

# --- 3. a command-log position from the future ------------------------------------------------------
rcli PUBLISH "$NS:cmd" '{"id":"future","cmd":"ping","log":"99999999999999-0"}' >/dev/null
wait_for "the reply to the future log position" 5 has_reply future
caught0=$(stat cmds_caught_up)
rcli CLIENT KILL TYPE pubsub >/dev/null   # the worker misses what comes now ...
cli send ping >/dev/null 2>&1 || true     # ... logged by swarm-cli, published into the gap
wait_eval "the missed command caught up from the log" 10 '[ "$(stat cmds_caught_up)" -gt "$caught0" ]'
redis_sub "$T/bus.txt" "$NS:reply" "$NS:events"   # our subscriber was killed too
log "3. catch-up still works after a command claimed log position 99999999999999-0"

# --- 4. ts from 1970 ------------------------------------------------------------------------------
rcli PUBLISH "$NS:cmd" '{"id":"old","cmd":"ping","ts":1}' >/dev/null
wait_for "the reply to ts=1" 5 has_reply old
reply_of old | jq -e 'has("lag_ms") | not' >/dev/null || fail "a lag from ts=1: $(reply_of old)"
wait_eval "fresh stats" 5 '[ "$(stat updated_ms)" -gt "$(now_ms)" ] || [ $(( $(now_ms) - $(stat updated_ms) )) -lt 1500 ]'
p99=$(stat cmd_p99_ms)
awk -v p="${p99:-0}" 'BEGIN { exit !(p < 60000) }' || fail "command p99 is $p99 ms after ts=1"
log "4. ts=1 ignored for latency (cmd p99 ${p99:-0} ms)"

# --- 5. a burst of triggers to one charger ------------------------------------------------------------
# 200 commands in one pipeline: the charger's send queue (2 in flight + 32) cannot take them all.
ch="$NS:cmd"
for i in $(seq 1 200); do
  p="{\"id\":\"burst-$i\",\"cmd\":\"trigger\",\"select\":\"CP-000002\",\"msg\":\"Heartbeat\"}"
  printf '*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' ${#ch} "$ch" ${#p} "$p"
done | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
burst() { bus "$NS:reply" | jq -c 'select(.id | tostring | startswith("burst-"))' 2>/dev/null; }
wait_eval "200 replies to the burst" 15 '[ "$(burst | wc -l)" -eq 200 ]'
done_n=$(burst | jq -s 'map(.done) | add') failed_n=$(burst | jq -s 'map(.failed) | add')
[ $((done_n + failed_n)) -eq 200 ] || fail "done $done_n + failed $failed_n != 200"
[ "$failed_n" -gt 0 ] || fail "200 triggers at once and not one could fail: done $done_n"
# (jq -s: with one document per reply, jq -e would judge by the last one alone)
burst | jq -se 'map(select(.failed > 0) | .errors[0] // "") | any(test("queue full"))' >/dev/null ||
  fail "no 'queue full' reason in the failed replies: $(burst | jq -sc 'map(select(.failed > 0) | .errors[0]) | unique')"
log "5. burst of 200 triggers to CP-000002: $done_n sent, $failed_n failed (send queue full), as the replies say"

# --- 6. info= beyond 50 characters -----------------------------------------------------------------
long=$(printf 'x%.0s' $(seq 1 51))
rcli PUBLISH "$NS:cmd" "@longinfo status CP-000003 Faulted info=$long" >/dev/null
wait_for "the reply to a long info=" 5 has_reply longinfo
reply_of longinfo | jq -e '.refused == true and (.errors[0] | test("50"))' >/dev/null ||
  fail "a 51-character info= was not refused: $(reply_of longinfo)"
log "6. status info= of 51 characters refused"

# --- 7. wrong types ---------------------------------------------------------------------------------
rcli HSET "$NS:cfg" heartbeat_s 45 >/dev/null
cli reload cfg >/dev/null 2>&1 || true
# Replaced in one step: the workers never see the key missing (that would mean defaults).
rcli EVAL "redis.call('DEL', KEYS[1]) return redis.call('SET', KEYS[1], 'garbage')" 1 "$NS:cfg" >/dev/null
rcli PUBLISH "$NS:cmd" '@badcfg reload cfg' >/dev/null
wait_for "the reply to reload cfg" 5 has_reply badcfg
reply_of badcfg | jq -e '.refused == true and (.errors[0] | test("WRONGTYPE"))' >/dev/null ||
  fail "reload cfg over a string said: $(reply_of badcfg)"
wait_for "an event naming $NS:cfg" 5 key_event "$NS:cfg"
connected_is 50 || fail "chargers went offline over a wrong type on $NS:cfg"
rcli EVAL "redis.call('DEL', KEYS[1]) return redis.call('HSET', KEYS[1], 'broker', ARGV[1])" 1 \
  "$NS:cfg" "tcp://127.0.0.1:$MQTT_PORT" >/dev/null
rcli EVAL "redis.call('RENAME', KEYS[1], KEYS[2]) return redis.call('SET', KEYS[1], 'garbage')" 2 \
  "$NS:assign" "$NS:assign.saved" >/dev/null
window_until $(( $(now_ms) + 5000 ))   # two lease periods and more
wait_for "an event naming $NS:assign" 5 key_event "$NS:assign"
[ "$(stat lease_lost)" = "$lost0" ] || fail "the lease lapsed over a wrong type on $NS:assign"
connected_is 50 || fail "$(connected) connected with a wrong type on $NS:assign"
rcli EVAL "redis.call('DEL', KEYS[1]) return redis.call('RENAME', KEYS[2], KEYS[1])" 2 \
  "$NS:assign" "$NS:assign.saved" >/dev/null
log "7. wrong types on $NS:cfg and $NS:assign: named in events and replies, fleet kept running"

# --- 8. keyspace notifications switched off ------------------------------------------------------------
rcli CONFIG SET notify-keyspace-events "" >/dev/null
wait_for "notifications switched on again" 15 event_seen keyspace_notifications_restored
flags=$(rcli --raw CONFIG GET notify-keyspace-events | sed -n 2p)
case "$flags" in *K*h*|*h*K*|*A*K*|*K*A*) ;; *) fail "notify-keyspace-events is '$flags'" ;; esac
log "8. notify-keyspace-events '' noticed and restored ('$flags')"

# --- 9. a shorter lease, live -----------------------------------------------------------------------
rcli HSET "$NS:fleet" lease_ms 5000 >/dev/null
window_until $(( $(now_ms) + 2000 ))
rcli HSET "$NS:fleet" lease_ms 1000 >/dev/null
window_until $(( $(now_ms) + 4000 ))
[ "$(stat lease_lost)" = "$lost0" ] || fail "the lease lapsed when lease_ms went 5000 -> 1000"
connected_is 50 || fail "$(connected) connected after lease_ms went down"
rcli HSET "$NS:fleet" lease_ms 2000 >/dev/null
log "9. lease_ms 5000 -> 1000 live: the lease held"

# --- 10. two agents, one name ---------------------------------------------------------------------
start_agent a1 1 50
dup=$LAST_PGID
wait_for "the second a1 to stop" 20 group_gone "$dup"
grep -q "another process registers as a1.w0" "$T/agent-a1.log" || fail "no reason given for the stop"
grep -q "stopping the agent" "$T/agent-a1.log" || fail "the duplicate's supervisor did not stop"
window_until $(( $(now_ms) + 3000 ))
connected_is 50 || fail "$(connected) connected after the duplicate left"
[ "$(rcli --raw HGET "$NS:agent:$W" pid)" != "" ] || fail "the first agent's registration is gone"
log "10. a second agent named a1 stopped with an error; the first kept its 50 chargers"
log "ok"
