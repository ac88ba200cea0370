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
