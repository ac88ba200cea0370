#!/usr/bin/env bash
# A smaller fleet: chargers leaving end their open transactions (StopTransaction, reason Local)
# before they disconnect; `scale N --abrupt` disconnects them at once and leaves them open.
# Chargers that stay keep their transactions either way.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
mqtt_sub 'chargers/#' "$T/all.txt"
setup_fleet 4 seed 7
start_coordinator
start_agent a1 1 4
wait_for "4 chargers connected" 30 connected_is 4
stops() { mqtt_lines "$T/all.txt" | awk -v t="chargers/$1/up/StopTransaction" '$2 == t' | grep -c -F '"reason":"Local"' || true; }

cli start CP-000001,CP-000003,CP-000004 kw=7 >/dev/null
for id in CP-000001 CP-000003 CP-000004; do
  wait_for "a transaction on $id" 10 has_frame "$T/all.txt" "chargers/$id/up/StartTransaction"
done

# --- scale down: the leavers stop their transactions, then disconnect -----------------------
cli scale 2 >/dev/null
[ "$(rcli HGET "$NS:fleet" shrink_tx)" = stop ] || fail "scale did not write shrink_tx=stop"
wait_for "2 chargers connected" 15 connected_is 2
for id in CP-000003 CP-000004; do
  [ "$(stops $id)" -eq 1 ] || fail "$id left without its StopTransaction (reason Local): $(stops $id)"
done
[ "$(stops CP-000001)" -eq 0 ] || fail "CP-000001 stays, yet stopped its transaction"
log "scale 4 -> 2: CP-000003 and CP-000004 sent StopTransaction (Local) before leaving; CP-000001 kept its own"

# --- scale down --abrupt: gone at once, transactions left open ----------------------------------
cli scale 4 >/dev/null
wait_for "4 chargers connected" 30 connected_is 4
cli start CP-000004 kw=7 >/dev/null
starts() { mqtt_lines "$T/all.txt" | awk '$2 == "chargers/CP-000004/up/StartTransaction"' | wc -l; }
wait_for "a second transaction on CP-000004" 10 eval '[ "$(starts)" -ge 2 ]'
before=$(stops CP-000004)
cli scale 3 --abrupt >/dev/null
[ "$(rcli HGET "$NS:fleet" shrink_tx)" = keep ] || fail "scale --abrupt did not write shrink_tx=keep"
wait_for "3 chargers connected" 15 connected_is 3
window_until $(( $(now_ms) + 1500 ))
[ "$(stops CP-000004)" -eq "$before" ] || fail "scale --abrupt still sent StopTransaction"
[ "$(stops CP-000001)" -eq 0 ] || fail "CP-000001 stays, yet stopped its transaction"
log "ok: scale 4 -> 3 --abrupt: CP-000004 left with its transaction open"
