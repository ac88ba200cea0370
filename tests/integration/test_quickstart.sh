#!/usr/bin/env bash
# The README's first Quick start command, unattended: scripts/swarm-up --check brings up the
# local swarm of 1,000 chargers, runs the three example commands and verifies their effect.
# Runs on free ports so it never touches a Redis or broker of the machine.
source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/swarm-up" --help >"$T/help.out" || fail "swarm-up --help failed"
grep -q "SWARM_UP_REDIS_PORT" "$T/help.out" || fail "swarm-up --help: $(cat "$T/help.out")"
! grep -qE '^(set |cd |ROOT=)' "$T/help.out" || fail "swarm-up --help prints script code: $(cat "$T/help.out")"
rport=$(free_port)
mport=$(free_port)
SWARM_UP_REDIS_PORT=$rport SWARM_UP_MQTT_PORT=$mport SWARM_UP_RUN_DIR=$T \
  timeout 150 "$root/scripts/swarm-up" --check >"$T/swarm-up.out" 2>&1 || {
  cat "$T/swarm-up.out"
  fail "scripts/swarm-up --check failed"
}
grep -q "swarm-up --check: ok" "$T/swarm-up.out" || fail "no ok line"
# The hints name the ports in use: plain redis-cli / swarm-cli would reach port 6379.
grep -q "redis-cli -p $rport PUBLISH swarm:cmd" "$T/swarm-up.out" || fail "the redis-cli hint lacks -p $rport: $(grep -A8 'Try these' "$T/swarm-up.out")"
grep -q "export SWARM_REDIS=redis://127.0.0.1:$rport/0" "$T/swarm-up.out" || fail "no SWARM_REDIS hint for port $rport"
grep -q "mosquitto_sub -p $mport " "$T/swarm-up.out" || fail "the mosquitto_sub hint lacks -p $mport"
log "$(grep 'chargers connected in' "$T/swarm-up.out")"
