#!/usr/bin/env bash
# What swarm-cli shows is what is in force, and text from Redis cannot steer the terminal:
# a rejected fleet size, a rejected config value, control characters in keys and replies.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 10
start_coordinator
start_agent a1 1 20
wait_for "10 chargers connected" 30 connected_is 10

# --- a rejected fleet size is not the fleet size ------------------------------------------------
for bad in -5 1e9; do
  rcli HSET "$NS:fleet" size "$bad" >/dev/null
  wait_eval "status sees size '$bad' rejected" 5 '[ "$(cli --json status | jq -r .fleet.size_rejected)" = "$bad" ]'
  [ "$(cli --json status | jq .fleet.size)" = 10 ] || fail "status --json shows size $(cli --json status | jq .fleet.size) for '$bad'"
  cli status >"$T/status.txt"
  grep -q "^fleet       10 chargers" "$T/status.txt" || fail "status: $(head -2 "$T/status.txt")"
  grep -q "holds size '$bad', rejected" "$T/status.txt" || fail "status does not flag '$bad': $(head -3 "$T/status.txt")"
done
connected_is 10 || fail "a rejected size changed the fleet"
rcli HSET "$NS:fleet" size 10 >/dev/null
log "rejected fleet sizes (-5, 1e9): status shows 10 in force and flags the hash"

# --- config get: the value in force, and the rejected value beside it -----------------------------
cli config set heartbeat_s=30 >/dev/null
rcli HSET "$NS:cfg" heartbeat_s 0 >/dev/null   # rejected by the workers: 30 stays in force
out=$(cli --json config get --charger CP-000001 heartbeat_s)
echo "$out" | jq -e '.heartbeat_s | .value == "30" and .from == "cfg" and .rejected == "0" and
  .accepted_before and .new_worker_value == "60" and .new_worker_from == "default"' >/dev/null ||
  fail "config get --charger: $out"
cli config get heartbeat_s >"$T/get.txt"
grep -q "^heartbeat_s  *30  *cfg (accepted before)" "$T/get.txt" || fail "config get: $(cat "$T/get.txt")"
grep -q "holds '0', rejected" "$T/get.txt" || fail "config get does not say what the hash holds: $(cat "$T/get.txt")"
log "config get: 30 in force, '0' rejected in the hash, 60 for a worker started since"

# --- control characters from Redis never reach the terminal raw --------------------------------
esc=$'\e]0;pwned\a\e[2J'
rcli HSET "$NS:cfg" vendor "$esc" >/dev/null
rcli HSET "$NS:cfg" "x$esc" 1 >/dev/null
cli config get >"$T/esc.txt"
if grep -q $'\e' "$T/esc.txt" || grep -q $'\a' "$T/esc.txt"; then
  fail "config get printed raw control characters: $(cat -v "$T/esc.txt" | grep -i pwned)"
fi
grep -qF '\x1b]0;pwned\x07' "$T/esc.txt" || fail "the escaped value is not shown: $(cat -v "$T/esc.txt")"
rcli HDEL "$NS:cfg" vendor "x$esc" >/dev/null
rcli HSET "$NS:catalog" "$esc" '{"a":1}' >/dev/null
cli --json catalog list | jq -e 'length == 1' >/dev/null || fail "catalog list --json is not JSON"
cli catalog list >"$T/cat.txt"
! grep -q $'\e' "$T/cat.txt" || fail "catalog list printed raw control characters"
rcli DEL "$NS:catalog" >/dev/null

# watch --json prints JSON lines; the human form escapes
cli watch --json >"$T/watch.jsonl" &
PIDS+=("$!")
cli watch >"$T/watch.txt" &
PIDS+=("$!")
wait_eval "both watches subscribed" 5 '[ "$(rcli PUBSUB NUMSUB "$NS:events" | tail -1)" -ge 2 ]'
rcli PUBLISH "$NS:events" "$(printf '{"type":"probe","text":"\\u001b[31m","raw":"\xff"}')" >/dev/null
rcli PUBLISH "$NS:events" "not json $esc" >/dev/null
cli ping >/dev/null
wait_eval "watch --json saw the events and the ping replies" 5 '[ "$(wc -l <"$T/watch.jsonl")" -ge 3 ]'
while read -r line; do echo "$line" | jq -e '.channel and (.message != null)' >/dev/null || fail "watch --json: $line"; done <"$T/watch.jsonl"
iconv -f UTF-8 -t UTF-8 "$T/watch.jsonl" >/dev/null || fail "watch --json is not valid UTF-8"
jq -r 'select(.message | type == "object") | .message.type' "$T/watch.jsonl" | grep -qx probe || fail "watch --json lost the event object"
wait_eval "watch printed the events" 5 '[ "$(grep -c event "$T/watch.txt")" -ge 2 ]'
! grep -q $'\e' "$T/watch.txt" || fail "watch printed raw control characters"
log "control characters from Redis escaped (config get, catalog list, watch); watch --json: JSON lines"

# --- catalog load: why a file cannot be opened ---------------------------------------------------
set +e
cli catalog load "$T/no-such-file.json" 2>"$T/cat.err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "catalog load of a missing file exited $rc"
grep -q "cannot open .*no-such-file.json: No such file or directory" "$T/cat.err" || fail "$(cat "$T/cat.err")"

# --- scale --wait: the timeout wherever it sits, and why it gave up -----------------------------
set +e
cli scale 100 --wait --timeout 1500 >"$T/scale1.txt"
rc=$?
set -e
[ $rc -eq 1 ] || fail "scale beyond the capacity --wait exited $rc: $(cat "$T/scale1.txt")"
grep -q "capacity too small: the 1 live worker holds at most 20 chargers, 80 short of 100" "$T/scale1.txt" ||
  fail "scale --wait: $(cat "$T/scale1.txt")"
! grep -qE "scale: [0-9]+/100 connected.*, [5-9][0-9]*\.[0-9] s" "$T/scale1.txt" || fail "--timeout 1500 not honoured: $(cat "$T/scale1.txt")"
cli scale 10 --wait --timeout 10000 >/dev/null || fail "scale back to 10"
set +e
cli --namespace empty scale 5 --wait --timeout 1000 >"$T/scale2.txt"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "nothing registered: no live worker" "$T/scale2.txt" || fail "scale in an empty namespace: rc $rc $(cat "$T/scale2.txt")"
# a namespace whose broker refuses every connect
closed=$(free_port)
rcli HSET nb:cfg broker "tcp://127.0.0.1:$closed" reconnect_min_ms 100 reconnect_max_ms 200 >/dev/null
spawn "$T/coordinator-nb.log" "$CS_BIN/swarm-coordinator" --namespace nb --tick-ms 200 --id coord-nb
spawn "$T/agent-nb.log" "$CS_BIN/swarm-agent" --namespace nb --name nb --workers 1 --max-chargers 10
wait_eval "the nb worker registered" 10 '[ "$(cli --namespace nb --json agents | jq length)" = 1 ]'
set +e
cli --namespace nb scale 5 --wait --timeout 3000 >"$T/scale3.txt"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "the broker refuses connects: [0-9]* failed attempt" "$T/scale3.txt" ||
  fail "scale against a closed broker: rc $rc $(cat "$T/scale3.txt")"
log "scale --wait gives up after --timeout (after the subcommand) naming why: capacity, no worker, broker"

# --- every command's --help exits 0 with a usage -------------------------------------------------
for sub in status top agents watch config scale catalog send replay completion docs \
    trigger start stop plug unplug fault clear reboot offline online pause resume reload ping \
    cancel garble dup storm; do
  cli "$sub" --help >"$T/help.txt" 2>&1 || fail "swarm-cli $sub --help exited $?: $(head -3 "$T/help.txt")"
  grep -q "Usage" "$T/help.txt" || fail "swarm-cli $sub --help: $(head -3 "$T/help.txt")"
done
cli status --help | grep -q "info=TEXT" || fail "status --help omits info="
cli --help | grep -q "random:N" || fail "swarm-cli --help omits the random: selector"
# --print-config names flags as flags, switches included
cli --json --timeout 300 --print-config >"$T/pc.txt"
grep -qE '^json +on +flag' "$T/pc.txt" || fail "--print-config: $(cat "$T/pc.txt")"
grep -qE '^timeout +300 +flag' "$T/pc.txt" || fail "--print-config: $(cat "$T/pc.txt")"

# --- the sample catalog of the README loads and sends ------------------------------------------
root=$(cd "$(dirname "$0")/../.." && pwd)
mqtt_sub 'chargers/CP-000002/up/+' "$T/up.txt"
cli catalog load "$root/examples/messages.json" >"$T/load.txt" || fail "examples/messages.json: $(cat "$T/load.txt")"
cli trigger CP-000002 VendorAlarm level=3 >/dev/null || fail "trigger VendorAlarm"
cli trigger CP-000002 TemperatureReport >/dev/null || fail "trigger TemperatureReport"
wait_for "VendorAlarm" 5 has_frame "$T/up.txt" chargers/CP-000002/up/VendorAlarm '"VendorAlarm"'
wait_for "TemperatureReport" 5 has_frame "$T/up.txt" chargers/CP-000002/up/TemperatureReport '"TemperatureReport"'
frame_of "$T/up.txt" chargers/CP-000002/up/VendorAlarm | jq -e '.[3].level == 3 and .[3].charger == "CP-000002"' >/dev/null ||
  fail "VendorAlarm: $(frame_of "$T/up.txt" chargers/CP-000002/up/VendorAlarm)"
log "examples/messages.json loads; its messages go out"
log "ok"
