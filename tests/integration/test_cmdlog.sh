#!/usr/bin/env bash
# A command issued while a worker cannot hear Redis is not lost: swarm-cli logs it in
# {ns}:cmdlog before publishing, and the worker catches up when it is back — exactly once.
# Also: Redis going away does not disconnect a single charger from the broker.
source "$(dirname "$0")/lib.sh"

start_redis --appendonly yes --appendfsync always
start_mosquitto
mqtt_sub 'chargers/#' "$T/all.txt"
setup_fleet 10 lease_ms 10000
start_coordinator
start_agent a1 1 10
wait_for "10 chargers connected" 30 connected_is 10
conn_before=$(grep -c "New client connected" "$T/mosquitto.log")

# Redis down for 3 s; right after it is back, a command the worker cannot have heard yet.
# (The worker reconnects after a jittered backoff; should it be back before the command goes
# out, the command is heard directly and the outage is repeated with a new command.)
caught=0
for attempt in 1 2 3 4 5; do
  restart_redis 3000
  cli send "@late-$attempt trigger CP-000004 DataTransfer messageId=caught-up-$attempt" >"$T/send.txt" || true
  [ "$(rcli XLEN "$NS:cmdlog")" -ge "$attempt" ] || fail "the command was not logged"
  wait_for "command $attempt runs (from the log or directly)" 20 \
    has_frame "$T/all.txt" chargers/CP-000004/up/DataTransfer "\"caught-up-$attempt\""
  wait_for "the worker's stats after the outage" 5 sh -c "redis-cli -p $REDIS_PORT HGET $NS:stats:a1.w0 cmds | grep -q ."
  window_until $(( $(now_ms) + 1200 ))   # one stats interval
  caught=$(rcli HGET "$NS:stats:a1.w0" cmds_caught_up)
  log "attempt $attempt: $(cat "$T/send.txt"); caught up so far: $caught"
  [ "${caught:-0}" -ge 1 ] && break
done
[ "${caught:-0}" -ge 1 ] || fail "in 5 outages the worker never had to catch up from the command log"
last_attempt=$attempt

# Each entry says who sent it: swarm-cli logs cli:USER@HOST, and where it went (CP-000004 is
# a1.w0's: routed).
entry=$(rcli --raw XREVRANGE "$NS:cmdlog" + - COUNT 1 | tr '\n' ' ')
want_by="cli:$(id -un)@$(hostname)"
case "$entry" in *" by $want_by "*|*" by $want_by") ;; *) fail "cmdlog entry without 'by $want_by': $entry" ;; esac
case "$entry" in *" to a1.w0 "*) ;; *) fail "cmdlog entry not routed to a1.w0: $entry" ;; esac

# Sent again (a retry with the same id): not run a second time.
cli send "@late-$last_attempt trigger CP-000004 DataTransfer messageId=caught-up-$last_attempt" >/dev/null || true
window_until $(( $(now_ms) + 1000 ))
n=$(mqtt_lines "$T/all.txt" | grep -c "chargers/CP-000004/up/DataTransfer .*caught-up-$last_attempt\"")
[ "$n" -eq 1 ] || fail "the command ran $n times"

# Plain redis-cli PUBLISH (no id, not logged) is at most once: it reaches the worker once its
# subscription is back.
subscribed() { [ "$(rcli PUBSUB NUMSUB "$NS:cmd" | tail -1)" -ge 1 ]; }
wait_for "the worker's subscription" 10 subscribed
rcli PUBLISH "$NS:cmd" "trigger CP-000005 DataTransfer messageId=plain" >/dev/null
wait_for "plain PUBLISH" 5 has_frame "$T/all.txt" chargers/CP-000005/up/DataTransfer '"plain"'

# No charger left the broker because Redis went away.
conn_after=$(grep -c "New client connected" "$T/mosquitto.log")
[ "$conn_after" -eq "$conn_before" ] || fail "$((conn_after - conn_before)) chargers reconnected to the broker during the Redis outage"
grep -q "CP-0000.* disconnected\|Client CP-0000.*closed" "$T/mosquitto.log" && fail "a charger disconnected from the broker"
connected_is 10 || fail "not all chargers connected after the outage"
log "ok: Redis restart: 0 broker disconnects, the missed command ran once from the command log"
