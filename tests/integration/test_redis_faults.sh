#!/usr/bin/env bash
# Redis goes away.
# 1. Restart (down 5 s, lease_ms 5000, so every lease lapses): Redis refuses connects, nobody
#    can reassign anything, and the chargers keep running on their last-known config — not one
#    disconnects from the broker. The workers come back, re-register, and read what changed
#    while they were away.
# 2. Silent (SIGSTOP for 2 x lease_ms): a worker cannot tell a hung Redis from a partition in
#    which the coordinator gives its chargers away, so once its lease lapses it drops every
#    charger; after SIGCONT the lease is confirmed, the chargers reconnect, and the broker never
#    sees two clients with one ID.
source "$(dirname "$0")/lib.sh"

N=40
start_redis --appendonly yes --appendfsync always
start_mosquitto
setup_fleet $N lease_ms 5000
start_coordinator
start_agent a1 2 $N
wait_for "$N chargers connected" 30 connected_is $N
mqtt_sub 'chargers/+/up/#' "$T/up.txt"

# --- 1. restart ------------------------------------------------------------------------------
mark=$(wc -l <"$T/mosquitto.log")
restart_redis 5000
# Written the moment Redis is back, before the workers can have re-subscribed: they read it
# when they resync.
rcli HSET "$NS:cfg" heartbeat_s 2 >/dev/null
hb_after() { [ "$(mqtt_lines "$T/up.txt" | awk -v t=chargers/CP-000007/up/Heartbeat '$2 == t' | wc -l)" -ge 2 ]; }
wait_for "heartbeat_s=2 applied (Heartbeats of CP-000007)" 20 hb_after
wait_eval "both workers registered again" 15 '[ "$(rcli ZCARD $NS:agents)" = 2 ] && [ "$(rcli EXISTS $NS:agent:a1.w0 $NS:agent:a1.w1)" = 2 ]'
wait_for "$N chargers connected" 10 connected_is $N
tail -n +"$((mark + 1))" "$T/mosquitto.log" >"$T/mosq.1"
if grep -qE "(New client connected .* as CP-|Client CP-[0-9]+ (disconnected|closed))" "$T/mosq.1"; then
  fail "a charger disconnected or reconnected because Redis restarted: $(grep -m3 -E 'CP-' "$T/mosq.1" | tr '\n' ';')"
fi
lost=$(rcli HGET "$NS:stats" lease_lost)
[ "${lost:-0}" = 0 ] || fail "lease_lost=$lost: chargers were dropped for a Redis that was merely down"
log "Redis down 5 s: no charger left the broker; config changed meanwhile applied"

# --- 2. silent -----------------------------------------------------------------------------------
rcli HSET "$NS:fleet" lease_ms 2000 >/dev/null
window_until $(( $(now_ms) + 1500 ))   # every worker refreshes with the new lease
mark=$(wc -l <"$T/mosquitto.log")
t0=$(now_ms)
kill -STOP -- "-$REDIS_PGID"
gone() { [ "$(tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep -cE 'Client CP-[0-9]+ (closed its connection|disconnected)')" -ge $N ]; }
wait_for "every charger dropped once the lease lapsed" 10 gone
dropped_ms=$(( $(now_ms) - t0 ))
window_until $(( t0 + 4000 ))
kill -CONT -- "-$REDIS_PGID"
t1=$(now_ms)
# (The stats in Redis are as old as the SIGSTOP: count on the broker's side.)
back() { [ "$(tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep -cE 'New client connected .* as CP-')" -ge $N ]; }
wait_for "$N chargers connected again" 30 back
back_ms=$(( $(now_ms) - t1 ))
wait_for "$N chargers connected (stats)" 10 connected_is $N
tail -n +"$((mark + 1))" "$T/mosquitto.log" >"$T/mosq.2"
kicks=$(grep -c "already connected" "$T/mosq.2" || true)
[ "$kicks" = 0 ] || fail "$kicks duplicate client IDs after the silent Redis"
early=$(awk -v a="$(( t0 / 1000 ))" -v b="$(( t1 / 1000 ))" -F: '$1 > a && $1 < b && /New client connected .* as CP-/' "$T/mosq.2" | wc -l)
[ "$early" = 0 ] || fail "$early chargers reconnected while Redis was silent"
wait_eval "lease_lost counted by both workers" 10 '[ "$(rcli HGET $NS:stats lease_lost)" = 2 ]'
log "ok: Redis silent: all $N dropped ${dropped_ms} ms after SIGSTOP (lease 2000 ms), back ${back_ms} ms after SIGCONT, no duplicate IDs"
