#!/usr/bin/env bash
# The README's first Quick start command, unattended: scripts/swarm-up --check brings up the
# local swarm of 1,000 chargers, runs the three example commands and verifies their effect.
# Runs on free ports so it never touches a Redis or broker of the machine.
source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
SWARM_UP_REDIS_PORT=$(free_port) SWARM_UP_MQTT_PORT=$(free_port) SWARM_UP_RUN_DIR=$T \
  timeout 150 "$root/scripts/swarm-up" --check >"$T/swarm-up.out" 2>&1 || {
  cat "$T/swarm-up.out"
  fail "scripts/swarm-up --check failed"
}
grep -q "swarm-up --check: ok" "$T/swarm-up.out" || fail "no ok line"
log "$(grep 'chargers connected in' "$T/swarm-up.out")"
