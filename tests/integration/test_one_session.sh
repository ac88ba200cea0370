#!/usr/bin/env bash
# A charger's client ID is connected once at a time, even when a connect is given up before
# the broker answered it: the broker is stopped (SIGSTOP), a charger starts connecting (its
# TCP connect and CONNECT wait in the broker's queue), goes offline for 1 s and connects
# again, then the broker resumes. The second connect may not reach the broker while the
# first may still be accepted: a broker that sees both kicks one ("already connected").
source "$(dirname "$0")/lib.sh"

N=4
start_redis
start_mosquitto
setup_fleet $N ramp_per_s 100
rcli HSET "$NS:cfg" reconnect_min_ms 200 reconnect_max_ms 1000 >/dev/null
start_coordinator
start_agent a1 1 $N
wait_for "$N chargers connected" 30 connected_is $N
kicks() { grep -c "already connected" "$T/mosquitto.log" || true; }

for round in 1 2 3; do
  cli offline CP-000002 >/dev/null || fail "offline CP-000002"
  wait_for "CP-000002 offline" 10 connected_is $((N - 1))
  kill -STOP -- "-$MQTT_PGID"
  cli online CP-000002 >/dev/null || fail "online CP-000002"
  # Its connect is under way: the TCP handshake completes in the stopped broker's backlog.
  wait_eval "CP-000002 connecting" 10 \
    "[ \"\$(ss -Htn state established \"( dport = :$MQTT_PORT )\" | wc -l)\" -gt $((N - 1)) ]"
  cli offline CP-000002 seconds=1 >/dev/null || fail "offline CP-000002 seconds=1"
  window_until $(( $(now_ms) + 2500 ))   # it comes back online after 1 s, while still stopped
  kill -CONT -- "-$MQTT_PGID"
  wait_for "round $round: all $N connected" 30 connected_is $N
  [ "$(kicks)" = 0 ] || fail "round $round: the broker kicked a duplicate client ID: $(grep 'already connected' "$T/mosquitto.log")"
done
log "ok: 3 given-up connects, each followed by a new one while the broker was stopped, no client ID connected twice"
