#!/usr/bin/env bash
# Planned moves never put two MQTT clients with one ID on the broker: a second agent joins
# (half of the first one's chargers move), the fleet shrinks to 100 (nobody who keeps a place
# moves) and grows back to 200 (the emptied workers take 101..200).
# The broker logs "Client <id> already connected, closing old connection." whenever it kicks
# a session for a duplicate ID; a deliberate duplicate first proves the detector sees it.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 200
mqtt_sub 'chargers/+/up/BootNotification' "$T/boot.txt"
redis_sub "$T/bus.txt" "$NS:ctl:a1.w0" "$NS:ctl:a1.w1" "$NS:ctl:a2.w0" "$NS:ctl:a2.w1"
start_coordinator
start_agent a1 2 100
wait_for "200 chargers connected on a1" 30 connected_is 200

# "worker ranges" lines of {ns}:assign, sorted, without _epoch.
assignment() { rcli --raw HGETALL "$NS:assign" | paste - - | grep -v '^_epoch' | sort; }
# Expands "1-3,7" to one index a line.
expand() { tr ',' '\n' | awk -F- 'NF==1 && $1 != "" {print $1} NF==2 {for (i = $1; i <= $2; i++) print i}'; }
id_of() { printf 'CP-%06d' "$1"; }
kicks() { grep -c "already connected" "$T/mosquitto.log" || true; }
# The broker's session lines of charger $2 in log extract $1, '|'-joined, without addresses.
sessions() { grep -E "as $2 |Client $2 " "$1" | sed -E 's/^[0-9]+: //; s/ from [0-9.:]+//; s/ \(p2.*//' | paste -sd'|'; }
# Every charger that connected in log extract $1 first left cleanly (moved), or only connected
# (new); $2 = moved|new. Prints the offenders.
check_sessions() {
  local id want n=0
  for id in $(grep -oE " as CP-[0-9]+ " "$1" | awk '{print $2}' | sort -u); do
    want="New client connected as $id"
    [ "$2" = moved ] && want="Client $id disconnected.|$want"
    [ "$(sessions "$1" "$id")" = "$want" ] || { n=$((n + 1)); [ $n -le 5 ] && echo "  $id: $(sessions "$1" "$id")"; }
  done
  return $n
}
connected_in() { grep -oE " as CP-[0-9]+ " "$1" | awk '{print $2}' | sort -u; }
# The workers the coordinator told to read a new assignment so far, in order.
assign_msgs() {
  awk '$0 == "message" { getline ch; getline p; print ch }' "$T/bus.txt" | sed 's/.*://'
}
# The live workers as sorted "name=chargers/connected" words equal $1.
workers_are() {
  local a want=$1
  a=$(cli --json status) || return 1
  [ "$(jq -r '[.workers[] | "\(.name)=\(.chargers)/\(.connected)"] | sort | join(" ")' <<<"$a")" = "$want" ]
}
# Every charger of the assignment has state owner = its worker and connected = 1; every index
# in 1..MAX outside it has connected = 0.
state_matches_assignment() {
  local max=$1 w r i id
  : >"$T/owners.want"
  while IFS=$'\t' read -r w r; do
    echo "$r" | expand | while read -r i; do echo "$(id_of "$i") $w 1"; done >>"$T/owners.want"
  done < <(assignment)
  for i in $(seq 1 "$max"); do
    id=$(id_of "$i")
    grep -q "^$id " "$T/owners.want" || echo "$id  0" >>"$T/owners.want"
  done
  sort -o "$T/owners.want" "$T/owners.want"
  for i in $(seq 1 "$max"); do
    id=$(id_of "$i")
    echo "$id $(rcli --raw HMGET "$NS:state:$id" owner connected | paste -sd' ')"
  done | sort >"$T/owners.got"
  diff "$T/owners.want" "$T/owners.got" >"$T/owners.diff"
}

# --- the detector: a deliberate duplicate ID is seen, and the charger comes back --------------
[ "$(kicks)" -eq 0 ] || fail "the broker kicked a client before the test began"
lost_before=$(rcli --raw HGET "$NS:stats:a1.w0" conn_lost)
mosquitto_sub -p "$MQTT_PORT" -i CP-000001 -t cs/probe -E -W 5 || fail "the probe client could not subscribe"
kicked() { grep -q "Client CP-000001 already connected, closing old connection." "$T/mosquitto.log"; }
wait_for "the broker to log the deliberate duplicate CP-000001" 5 kicked
back() {
  [ "$(rcli --raw HGET "$NS:stats:a1.w0" conn_lost)" -gt "${lost_before:-0}" ] &&
    [ "$(rcli --raw HGET "$NS:state:CP-000001" link)" = up ] &&
    [ "$(grep -E "as CP-000001 |already connected" "$T/mosquitto.log" | tail -1 | grep -c "as CP-000001 ")" = 1 ]
}
wait_for "CP-000001 to notice and reconnect" 15 back
wait_for "200 chargers connected" 10 connected_is 200
log "detector ok: the deliberate duplicate was logged ('$(grep -m1 "already connected" "$T/mosquitto.log" | cut -d' ' -f2-)'), CP-000001 reconnected"
kicks0=$(kicks)
log_mark=$(wc -l <"$T/mosquitto.log")

# --- a second agent joins: a1 gives up half -------------------------------------------------
start_agent a2 2 100
t_join=$(now_ms)
wait_for "50 chargers on each of 4 workers, all connected" 30 workers_are "a1.w0=50/50 a1.w1=50/50 a2.w0=50/50 a2.w1=50/50"
wait_for "200 chargers connected" 5 connected_is 200
log "rebalanced in $(( $(now_ms) - t_join )) ms: $(assignment | tr '\t\n' '= ')"
log "assignment notices so far: $(assign_msgs | paste -sd' ')"
[ "$(assignment | awk '$1 ~ /^a1\./ {print $2}' | paste -sd,)" = "1-50,101-150" ] || fail "a1 keeps $(assignment | awk '$1 ~ /^a1\./' | tr '\n' ' ')"
moved=$(assignment | awk '$1 ~ /^a2\./ {print $2}' | paste -sd, | expand | sort -n)
[ "$(echo "$moved" | wc -l)" -eq 100 ] && [ "$(echo "$moved" | sed -n 1p)" = 51 ] || fail "a2 holds $(assignment | awk '$1 ~ /^a2\./' | tr '\n' ' ')"
[ "$(kicks)" -eq "$kicks0" ] || fail "duplicate client IDs during the handover: $(grep "already connected" "$T/mosquitto.log" | tail -n +"$((kicks0 + 1))" | sed -n 1,5p)"
wait_for "state owners and connected match the assignment" 5 state_matches_assignment 200

# Every moved charger: the broker saw it disconnect cleanly from a1 before it connected from a2.
tail -n +"$((log_mark + 1))" "$T/mosquitto.log" >"$T/mosq.handover"
check_sessions "$T/mosq.handover" moved || fail "$? chargers did not go 'disconnected' then 'connected' once each"
# ... and those are exactly the moved ones.
[ "$(connected_in "$T/mosq.handover")" = "$(for i in $moved; do id_of "$i"; echo; done | sort)" ] ||
  fail "the chargers that reconnected are not the moved ones: $(connected_in "$T/mosq.handover" | sed -n 1,3p | tr '\n' ' ')..."
# BootNotifications: one more for each moved charger (and CP-000001, kicked), none for the others.
wait_eval "a second BootNotification from each moved charger" 10 '[ "$(mqtt_lines "$T/boot.txt" | wc -l)" -ge 301 ]'
for i in $(seq 1 200); do
  want=1
  { [ "$i" = 1 ] || echo "$moved" | grep -qx "$i"; } && want=2
  echo "$(id_of "$i") $want"
done >"$T/boots.want"
mqtt_lines "$T/boot.txt" | awk '{split($2, p, "/"); n[p[2]]++} END {for (id in n) print id, n[id]}' | sort >"$T/boots.got"
diff "$T/boots.want" "$T/boots.got" >"$T/boots.diff" || fail "BootNotifications per charger differ: $(head -6 "$T/boots.diff" | tr '\n' ' ')"
log "handover: 100 chargers moved a1 -> a2, each 'disconnected' then 'connected' once in the broker log, 0 duplicate IDs, owners in {ns}:state match {ns}:assign"

# --- scale down to 100: chargers 101..200 leave cleanly, nobody who keeps a place moves ----------
# "worker index" lines of the assignment, for indexes up to $1.
placed() { assignment | while IFS=$'\t' read -r w r; do echo "$r" | expand | awk -v w="$w" -v m="$1" '$1 <= m {print w, $1}'; done | sort; }
placed 100 >"$T/placed.before"
log_mark=$(wc -l <"$T/mosquitto.log")
cli scale 100 --wait --timeout 20000 >"$T/scale-down.txt" || fail "scale 100 --wait: $(cat "$T/scale-down.txt")"
grep -q "100/100\|more than the new size" "$T/scale-down.txt" || fail "scale --wait progress: $(cat "$T/scale-down.txt")"
if grep -qE "scale: [0-9]+/100 connected" "$T/scale-down.txt"; then
  awk '/scale: [0-9]+\/100 connected/ {split($2, a, "/"); if (a[1] > 100) exit 1}' "$T/scale-down.txt" ||
    fail "a progress line above the new size: $(cat "$T/scale-down.txt")"
fi
wait_for "100 chargers connected" 5 connected_is 100
wait_eval "the assignment covers 1..100" 10 '[ "$(placed 200 | wc -l)" -eq 100 ]'
placed 100 >"$T/placed.after"
diff "$T/placed.before" "$T/placed.after" >"$T/placed.diff" ||
  fail "scaling down moved chargers that keep a place: $(head -5 "$T/placed.diff" | tr '\n' ' ')"
gone_clean() {
  local i
  for i in $(seq 101 200); do
    [ "$(rcli --raw HMGET "$NS:state:$(id_of "$i")" connected owner | paste -sd/)" = "0/" ] || return 1
  done
}
wait_for "chargers 101..200 saved as connected=0 with no owner" 5 gone_clean
# Checked at the end: the state of a released charger must not say link=up.
stale_link=$(for i in $(seq 101 200); do rcli --raw HGET "$NS:state:$(id_of "$i")" link; done | grep -cx up || true)
wait_for "state owners and connected match the assignment" 5 state_matches_assignment 200
tail -n +"$((log_mark + 1))" "$T/mosquitto.log" >"$T/mosq.down"
clean=$(grep -cE "Client CP-0001(0[1-9]|[1-9][0-9]) disconnected\.|Client CP-000200 disconnected\." "$T/mosq.down" || true)
[ "$clean" -eq 100 ] || fail "$clean of chargers 101..200 sent a clean DISCONNECT, want 100"
unclean=$(grep -cE "Client CP-[0-9]+ (closed its connection|has exceeded the timeout)|Socket error on client CP-" "$T/mosq.down" || true)
[ "$unclean" -eq 0 ] || fail "$unclean unclean disconnects while scaling down"
[ "$(kicks)" -eq "$kicks0" ] || fail "duplicate client IDs while scaling down"
moved_down=$(grep -c "New client connected" "$T/mosq.down" || true)
[ "$moved_down" -eq 0 ] || fail "$moved_down chargers reconnected while scaling down: a shrink moves nobody who keeps a place"
log "scale 100: 101..200 disconnected cleanly (state connected=0), 0 chargers moved, $(assignment | tr '\t\n' '= ')"

# --- and back to 200 ----------------------------------------------------------------------------
log_mark=$(wc -l <"$T/mosquitto.log")
cli scale 200 >/dev/null
wait_for "50 chargers on each of 4 workers, all connected" 30 workers_are "a1.w0=50/50 a1.w1=50/50 a2.w0=50/50 a2.w1=50/50"
wait_for "200 chargers connected" 5 connected_is 200
wait_for "state owners and connected match the assignment" 5 state_matches_assignment 200
[ "$(kicks)" -eq "$kicks0" ] || fail "duplicate client IDs while scaling up: $(grep "already connected" "$T/mosquitto.log" | tail -n +"$((kicks0 + 1))" | sed -n 1,5p)"
tail -n +"$((log_mark + 1))" "$T/mosquitto.log" >"$T/mosq.up"
check_sessions "$T/mosq.up" new || fail "$? chargers connected more than once while scaling up"
[ "$(connected_in "$T/mosq.up")" = "$(for i in $(seq 101 200); do id_of "$i"; echo; done)" ] ||
  fail "scaling up connected other chargers than 101..200"
all=$(rcli --raw HGETALL "$NS:assign" | paste - - | grep -v '^_epoch' | cut -f2 | paste -sd, | expand | sort -n)
[ "$(echo "$all" | wc -l)" -eq 200 ] && [ "$(echo "$all" | uniq | wc -l)" -eq 200 ] || fail "the assignment does not cover 1..200 once"
log "join, scale down and up without a duplicate client ID ($(kicks) kick in the broker log: the deliberate one); $(assignment | tr '\t\n' '= ')"
# Known bug (agent/charger_rt.c crt_release): the release saves the state while the link is
# still up, so a charger that left the fleet keeps link=up beside connected=0.
[ "$stale_link" -eq 0 ] || fail "$stale_link of chargers 101..200 left with {ns}:state link=up (connected=0, owner empty) after scale 100"
log "ok: planned moves and scaling without duplicate client IDs"
