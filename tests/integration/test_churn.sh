#!/usr/bin/env bash
# Connection churn: the broker killed and restarted over and over under 300 chargers, storms
# and simulated network losses in between. paho may still be inside a callback for a client
# when the worker learns it is done; destroying the client then crashed the worker (or leaked
# paho's memory under LeakSanitizer). Nothing may crash, leak or stay disconnected.
source "$(dirname "$0")/lib.sh"

N=300
ROUNDS=${CHURN_ROUNDS:-8}
start_redis
start_mosquitto
setup_fleet $N ramp_per_s 2000
rcli HSET "$NS:cfg" reconnect_min_ms 50 reconnect_max_ms 400 >/dev/null
start_coordinator
start_agent a1 1 $N
wait_for "$N chargers connected" 60 connected_is $N
pid0=$(rcli --raw HGET "$NS:agent:a1.w0" pid)

for r in $(seq 1 "$ROUNDS"); do
  # The broker dies under the chargers (every connection lost at once) and comes back.
  kill -KILL -- "-$MQTT_PGID" 2>/dev/null
  wait_for "mosquitto gone" 5 group_gone "$MQTT_PGID"
  spawn "$T/mosquitto.log" mosquitto -c "$T/mosquitto.conf"
  MQTT_PGID=$LAST_PGID
  server_up "$MQTT_PGID" mosquitto_pub -p "$MQTT_PORT" -t cs/ping -m x || fail "mosquitto did not restart"
  window_until $(( $(now_ms) + 300 + RANDOM % 500 ))   # some reconnected, some not yet
  case $((r % 3)) in
    0) cli storm '*' >/dev/null 2>&1 || true ;;
    1) cli offline 'random:30%' seconds=1 >/dev/null 2>&1 || true ;;
    2) cli reboot 'random:30%' >/dev/null 2>&1 || true ;;
  esac
done
wait_for "all $N back" 90 connected_is $N
[ "$(rcli --raw HGET "$NS:agent:a1.w0" pid)" = "$pid0" ] || fail "the worker was restarted (it died)"
! grep -q "restarting worker" "$T/agent-a1.log" || fail "a worker died: $(grep -m1 'exited\|killed' "$T/agent-a1.log")"
lost=$(rcli --raw HGET "$NS:stats:a1.w0" conn_lost)
log "ok: $ROUNDS broker kills under $N chargers with storms, losses and reboots between them; $lost connections lost, all back, the worker never died"
