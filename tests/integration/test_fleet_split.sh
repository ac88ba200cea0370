#!/usr/bin/env bash
# (a) Two agents x two workers, a fleet of 200: every charger connects and the coordinator
# splits the IDs with no overlap and no gap.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 200
mqtt_sub 'chargers/+/up/BootNotification' "$T/boot.txt"
start_coordinator
start_agent a1 2 100
start_agent a2 2 100

t0=$(now_ms)
wait_for "200 chargers connected" 30 connected_is 200
log "200 chargers connected in $(( $(now_ms) - t0 )) ms"

# The assignment: four workers, ranges covering 1..200 exactly once.
rcli HGETALL "$NS:assign" >"$T/assign.txt"
all=$(rcli --raw HGETALL "$NS:assign" | paste - - | grep -v '^_epoch' | cut -f2 | tr ',' '\n' |
  awk -F- 'NF==1{print $1} NF==2{for(i=$1;i<=$2;i++) print i}' | sort -n)
[ "$(echo "$all" | wc -l)" -eq 200 ] || fail "assignment covers $(echo "$all" | wc -l) indexes, want 200"
[ "$(echo "$all" | uniq | wc -l)" -eq 200 ] || fail "an index is assigned twice"
[ "$(echo "$all" | sed -n 1p)" = 1 ] && [ "$(echo "$all" | tail -1)" = 200 ] || fail "assignment is not 1..200"
workers=$(rcli --raw HKEYS "$NS:assign" | grep -vc '^_epoch')
[ "$workers" -eq 4 ] || fail "$workers workers hold ranges, want 4"
# Balanced: 50 each.
for w in a1.w0 a1.w1 a2.w0 a2.w1; do
  n=$(cli --json status | jq -r --arg w "$w" '.workers[] | select(.name == $w) | .chargers')
  [ "$n" = 50 ] || fail "$w holds $n chargers, want 50"
done

# Every charger really is an MQTT client: 200 distinct IDs booted.
wait_eval "200 BootNotifications" 10 '[ "$(mqtt_lines "$T/boot.txt" | awk "{print \$2}" | sort -u | wc -l)" -eq 200 ]'
ids=$(mqtt_lines "$T/boot.txt" | awk '{print $2}' | cut -d/ -f2 | sort -u)
[ "$(echo "$ids" | sed -n 1p)" = CP-000001 ] && [ "$(echo "$ids" | tail -1)" = CP-000200 ] ||
  fail "unexpected charger IDs: $(echo "$ids" | sed -n 1p) .. $(echo "$ids" | tail -1)"
log "ok: 4 workers x 50 chargers, IDs CP-000001..CP-000200, no overlap, no gap"
