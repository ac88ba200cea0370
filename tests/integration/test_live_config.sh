#!/usr/bin/env bash
# (c) HSET heartbeat_s on one charger: its heartbeat period changes at once while the others
# keep theirs. A bad value is rejected with an event and the old value stays.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 10
rcli HSET "$NS:cfg" heartbeat_s 4 >/dev/null
start_coordinator
start_agent a1 1 10
wait_for "10 chargers connected" 30 connected_is 10
mqtt_sub 'chargers/+/up/Heartbeat' "$T/hb.txt"
redis_sub "$T/events.txt" "$NS:events"

rcli HSET "$NS:charger:CP-000003" heartbeat_s 1 >/dev/null
t_set=$(now_ms)
window_until $((t_set + 6500))

# Heartbeats per charger in the window after the change.
count() { mqtt_lines "$T/hb.txt" | awk -v id="chargers/$1/up/Heartbeat" -v t0="$t_set" \
  '$2 == id && $1 * 1000 > t0 {n++} END {print n + 0}'; }
fast=$(count CP-000003)
slow=$(count CP-000005)
log "after heartbeat_s=1 on CP-000003: CP-000003 sent $fast, CP-000005 sent $slow in 6.5 s"
[ "$fast" -ge 5 ] || fail "CP-000003 sent $fast heartbeats in 6.5 s, want >= 5 (period 1 s)"
[ "$slow" -le 2 ] || fail "CP-000005 sent $slow heartbeats in 6.5 s, want <= 2 (period 4 s)"
# Intervals of the fast one are about 1 s, once the CALLs held behind the first connect's
# BootNotification (up to 2 s when nobody answers) have gone out.
mqtt_lines "$T/hb.txt" | awk -v id="chargers/CP-000003/up/Heartbeat" -v t0="$((t_set + 2000))" \
  '$2 == id && $1 * 1000 > t0 {if (p) print $1 - p; p = $1}' | tail -n +2 |
  tee "$T/intervals.txt" | awk '{ if ($1 < 0.8 || $1 > 1.3) bad = 1 } END { exit bad }' || fail "CP-000003 intervals are not ~1 s: $(paste -sd" " "$T/intervals.txt")"

# A bad value: rejected with an event; the charger keeps its 1 s period.
rcli HSET "$NS:charger:CP-000003" heartbeat_s soon >/dev/null
wait_for "a config_rejected event" 5 grep -q '"type":"config_rejected".*"key":"heartbeat_s"' "$T/events.txt"
grep '"config_rejected"' "$T/events.txt" | grep -q "'soon' is not an integer" || fail "event does not name the problem"
t_bad=$(now_ms)
window_until $((t_bad + 3200))
after=$(mqtt_lines "$T/hb.txt" | awk -v id="chargers/CP-000003/up/Heartbeat" -v t0="$t_bad" \
  '$2 == id && $1 * 1000 > t0 {n++} END {print n + 0}')
[ "$after" -ge 2 ] || fail "after the bad value CP-000003 sent $after heartbeats in 3 s: the old value was lost"

# swarm-cli refuses bad values before writing anything.
if cli config set --charger CP-000004 heartbeat_s=0 2>"$T/err.txt"; then fail "config set accepted heartbeat_s=0"; fi
grep -q "heartbeat_s" "$T/err.txt" || fail "config set error does not name the key"
[ -z "$(rcli HGET "$NS:charger:CP-000004" heartbeat_s)" ] || fail "a rejected value was written"
log "ok: live period change, others unchanged, bad value rejected and old value kept"
