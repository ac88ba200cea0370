#!/usr/bin/env bash
# A chaos soak: a fleet runs for SOAK_S seconds (default 60 here; scripts/soak MINUTES for a
# long run) while a driver fires, about once a second, random valid and invalid commands,
# config writes, values of the wrong type, worker kills, Redis and broker restarts. Every second
# it checks the fleet's invariants and prints any violation with its time:
#   - no client ID is ever connected twice (the broker never kicks a charger's older session);
#   - no lease lapses (Redis restarts are "down", not "silent": the chargers stay);
#   - after a fault the fleet is whole again within RECOVER_S, and within DISTURB_S after a
#     command that disconnects chargers on purpose (offline, reboot, storm);
#   - no worker dies but by our own kill -9;
#   - every swarm-cli command is answered (no missing replies) outside fault windows.
source "$(dirname "$0")/lib.sh"

SOAK_S=${SOAK_S:-60}
RECOVER_S=${RECOVER_S:-30}
DISTURB_S=${DISTURB_S:-10}
N=${SOAK_CHARGERS:-200}
SEED=${SOAK_SEED:-$RANDOM}
RANDOM=$SEED
start_redis
start_mosquitto
setup_fleet $N lease_ms 3000 ramp_per_s 500
start_coordinator
start_agent a1 2 $((N / 2 + 20))
start_agent a2 2 $((N / 2 + 20))
wait_for "$N chargers connected" 60 connected_is $N
log "soak: $N chargers on 4 workers for ${SOAK_S}s, seed $SEED"

violations=0 actions=0 kills=0 last_fault=0 last_disturb=0
declare -A did
violation() { violations=$((violations + 1)); log "VIOLATION: $*"; trace "VIOLATION: $*"; }
# Every action goes to $T/actions.log with its time, so a violation can be read against it.
trace() { echo "$(date -u +%H:%M:%S.%3N) $*" >>"$T/actions.log"; }
act() { actions=$((actions + 1)); did[$1]=$(( ${did[$1]:-0} + 1 )); trace "$1"; }
fault() { last_fault=$(now_ms); }
in_fault() { [ $(( $(now_ms) - last_fault )) -lt $((RECOVER_S * 1000)) ]; }
disturb() { last_disturb=$(now_ms); }
disturbed() { in_fault || [ $(( $(now_ms) - last_disturb )) -lt $((DISTURB_S * 1000)) ]; }
sel() {
  case $((RANDOM % 5)) in
    0) echo "CP-$(printf '%06d' $((1 + RANDOM % N)))" ;;
    1) echo "random:$((1 + RANDOM % 20))" ;;
    2) echo "CP-0000$((RANDOM % 10))?" ;;
    3) echo "worker:a$((1 + RANDOM % 2)).w$((RANDOM % 2))" ;;
    *) echo "random:$((1 + RANDOM % 5))%" ;;
  esac
}
# A swarm-cli command; a reply missing while no fault is under way is a violation.
send() {
  local out rc=0
  trace "  swarm-cli $*"
  out=$(timeout 20 "$CS_BIN/swarm-cli" --timeout 5000 "$@" 2>&1) || rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ] && ! in_fault; then
    violation "swarm-cli $* exited $rc: $(echo "$out" | tail -1)"
  elif echo "$out" | grep -q "missing repl" && ! in_fault; then
    violation "swarm-cli $*: $(echo "$out" | grep -m1 'missing repl')"
  fi
  return 0
}
msgs=(Heartbeat StatusNotification MeterValues BootNotification DataTransfer Authorize)
bad=('trigger' 'frobnicate *' 'trigger CP-000001 NoSuchMessage' 'status * Exploding'
     'trigger CP-000001..CP-000005..CP-000009 Heartbeat' '{"cmd":' 'start * kw=-1'
     'trigger random:0 Heartbeat' 'reload nosuch' 'assign epoch=9999999 ranges=1-99999'
     'trigger * Heartbeat at=1 every=100ms count=2' 'fault * code=Nope')
drive() {
  case $((RANDOM % 20)) in
    0|1|2) act trigger; send trigger "$(sel)" "${msgs[RANDOM % ${#msgs[@]}]}" ;;
    3) act start; send start "$(sel)" ;;
    4) act stop; send stop "$(sel)" ;;
    5) act fault; send fault "$(sel)" code=GroundFailure; send clear '*' ;;
    6) act offline; disturb; send offline "$(sel)" seconds=2 ;;
    7) act storm; disturb; send storm "CP-0000$((RANDOM % 10))?" ;;
    8) act reboot; disturb; send reboot "$(sel)" ;;
    9) act schedule; send trigger "$(sel)" Heartbeat every=200ms count=5 ;;
    10|11) act bad; rcli PUBLISH "$NS:cmd" "${bad[RANDOM % ${#bad[@]}]}" >/dev/null ;;
    12) act config; rcli HSET "$NS:cfg" heartbeat_s $((10 + RANDOM % 50)) meter_s $((10 + RANDOM % 50)) >/dev/null ;;
    13) act bad_config; rcli HSET "$NS:cfg" heartbeat_s -$((RANDOM % 9)) >/dev/null
        rcli HSET "$NS:charger:CP-$(printf '%06d' $((1 + RANDOM % N)))" max_kw 1e9 >/dev/null ;;
    14) act wrong_type; k="$NS:charger:CP-$(printf '%06d' $((1 + RANDOM % N)))"
        rcli EVAL "redis.call('DEL', KEYS[1]) return redis.call('SET', KEYS[1], 'x')" 1 "$k" >/dev/null
        rcli DEL "$k" >/dev/null ;;
    15) act layer; send config set --select "random:$((1 + RANDOM % 30))%" model="M$RANDOM" ;;
    16) act kill_worker; fault; kills=$((kills + 1))
        pid=$(rcli --raw HGET "$NS:agent:a$((1 + RANDOM % 2)).w$((RANDOM % 2))" pid)
        if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi ;;
    17) act restart_broker; fault; restart_mosquitto 500 ;;
    18) act restart_redis; fault; restart_redis 500 ;;
    *) act ping; send ping ;;
  esac
  return 0
}
kicks() { grep -c "already connected" "$T/mosquitto.log" 2>/dev/null || true; }
kicks_seen=$(kicks)
lease_lost() { local s=0 v; for w in a1.w0 a1.w1 a2.w0 a2.w1; do v=$(rcli --raw HGET "$NS:stats:$w" lease_lost 2>/dev/null); s=$((s + ${v:-0})); done; echo $s; }
check() {
  local k c l
  k=$(kicks)
  if [ "$k" -gt "${kicks_seen:-0}" ]; then
    violation "the broker kicked a duplicate client ID: $(grep "already connected" "$T/mosquitto.log" | tail -1)"
    kicks_seen=$k
  fi
  l=$(lease_lost)
  if [ "${l:-0}" -gt "${lost_seen:-0}" ]; then violation "a lease lapsed ($l)"; lost_seen=$l; fi
  if ! disturbed; then
    c=$(connected 2>/dev/null || true)
    [ "${c:-0}" = "$N" ] || violation "$c of $N connected ${RECOVER_S}s after the last fault, ${DISTURB_S}s after the last disconnecting command"
  fi
  local died
  died=$(grep -h 'killed by signal' "$T"/agent-*.log 2>/dev/null | grep -vc 'signal 9$' || true)
  if [ "${died:-0}" -gt "${died_seen:-0}" ]; then
    violation "a worker died by itself: $(grep -h 'killed by signal' "$T"/agent-*.log | grep -v 'signal 9$' | tail -1)"
    died_seen=$died
  fi
  return 0
}

t_end=$(( $(now_ms) + SOAK_S * 1000 ))
next_check=0
while [ "$(now_ms)" -lt "$t_end" ]; do
  drive
  if [ "$(now_ms)" -ge "$next_check" ]; then check; next_check=$(( $(now_ms) + 1000 )); fi
  window_until $(( $(now_ms) + 300 + RANDOM % 700 ))
done
# The end: no fault may linger.
last_fault=0 last_disturb=0
wait_for "all $N connected at the end" $RECOVER_S connected_is $N
check
summary=$(for a in "${!did[@]}"; do printf '%s=%d ' "$a" "${did[$a]}"; done)
log "soak done: ${SOAK_S}s, $actions actions ($summary), $kills worker kills, $violations violations"
[ "$violations" -eq 0 ] || fail "$violations violations (seed $SEED)"
