#!/usr/bin/env bash
# A worker process dies (SIGKILL): the supervisor starts a new one in the same slot (same name,
# same lease), which takes its chargers back from {ns}:state — energy registers continue, an
# open transaction ends with PowerLoss (on_takeover=stop) — while the other worker's chargers
# never notice.
source "$(dirname "$0")/lib.sh"

N=20
start_redis
start_mosquitto
setup_fleet $N
rcli HSET "$NS:cfg" meter_s 1 call_timeout_s 1 max_kw 50 >/dev/null
mqtt_sub 'chargers/+/up/#' "$T/up.txt"
start_coordinator
start_agent a1 2 $N
wait_for "$N chargers connected" 30 connected_is $N
w0=$(rcli HGET "$NS:agent:a1.w0" pid)
range=$(rcli HGET "$NS:assign" a1.w0)
log "a1.w0 (pid $w0) owns $range"
first=${range%%-*}; first=${first%%,*}
id=$(printf 'CP-%06d' "$first")
other=$(printf 'CP-%06d' "$N")   # a1.w1's last charger
cli start "$id" kw=50 >/dev/null
tx_readings() { mqtt_lines "$T/up.txt" | awk -v t="chargers/$id/up/MeterValues" '$2 == t' | grep -c transactionId || true; }
wait_eval "$id charging" 20 '[ "$(tx_readings)" -ge 2 ]'
before=$(rcli HGET "$NS:state:$id" c1.meter_wh)
boots_other=$(mqtt_lines "$T/up.txt" | awk -v t="chargers/$other/up/BootNotification" '$2 == t' | wc -l)

t0=$(now_ms)
kill -KILL "$w0"
restarted() { local p; p=$(rcli HGET "$NS:agent:a1.w0" pid); [ -n "$p" ] && [ "$p" != "$w0" ]; }
wait_for "the supervisor restarts a1.w0" 15 restarted
stop_frame() { frame_of "$T/up.txt" "chargers/$id/up/StopTransaction" PowerLoss; }
wait_for "$id: StopTransaction reason PowerLoss" 20 has_frame "$T/up.txt" "chargers/$id/up/StopTransaction" PowerLoss
wait_for "$N chargers connected" 20 connected_is $N
took=$(( $(now_ms) - t0 ))
after=$(rcli HGET "$NS:state:$id" c1.meter_wh)
awk -v a="$after" -v b="$before" 'BEGIN {exit !(a + 0 >= b + 0)}' || fail "$id: register $before Wh before the kill, $after after"
stop=$(stop_frame)
meter_stop=$(echo "$stop" | jq '.[3].meterStop')
# meterStop is a whole number of Wh (OCPP: an integer): compare with the register's floor.
awk -v a="$meter_stop" -v b="$before" 'BEGIN {exit !(a + 0 >= int(b))}' || fail "$id: meterStop $meter_stop below the last saved register $before Wh"
grep -q "worker a1.w0 .*\(died\|killed\|signal\)" "$T/agent-a1.log" || fail "the supervisor did not log the death of a1.w0"
now_boots=$(mqtt_lines "$T/up.txt" | awk -v t="chargers/$other/up/BootNotification" '$2 == t' | wc -l)
[ "$now_boots" = "$boots_other" ] || fail "$other (a1.w1) rebooted although only a1.w0 died"
log "ok: a1.w0 killed, restarted and all $N back in ${took} ms; $id: register $before -> $after Wh, StopTransaction PowerLoss meterStop $meter_stop"
