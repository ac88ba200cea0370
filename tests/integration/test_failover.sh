#!/usr/bin/env bash
# (d) SIGKILL one agent (supervisor and workers, as a host crash would): its chargers come
# back on the other agent within the lease plus the ramp.
source "$(dirname "$0")/lib.sh"

LEASE_MS=2000
RAMP=200
start_redis
start_mosquitto
setup_fleet 100 lease_ms $LEASE_MS ramp_per_s $RAMP
start_coordinator
start_agent a1 2 100
start_agent a2 2 100
victim=$LAST_PGID
wait_for "100 chargers connected" 30 connected_is 100
held_by_a2=$(cli --json status | jq '[.workers[] | select(.name | startswith("a2.")) | .chargers] | add')
[ "$held_by_a2" -gt 0 ] || fail "a2 holds no chargers before the crash"
log "a2 holds $held_by_a2 chargers; killing it with SIGKILL"

t0=$(now_ms)
kill -KILL -- "-$victim"
a2_gone() { [ "$(cli --json status | jq '[.workers[] | select(.name | startswith("a2."))] | length')" = 0 ]; }
all_on_a1() { [ "$(cli --json status | jq '[.workers[] | select(.name | startswith("a1.")) | .connected] | add')" = 100 ]; }
wait_for "a2's workers to vanish from the fleet" 15 a2_gone
# Bound: the lease, the coordinator tick, one worker's ramp for its share, plus slack for
# the broker to notice and the stats to refresh.
bound_s=$(( (LEASE_MS + 1000 + held_by_a2 * 1000 / RAMP) / 1000 + 5 ))
wait_for "all 100 chargers connected on a1" "$bound_s" all_on_a1
took=$(( $(now_ms) - t0 ))
log "all chargers back on a1 ${took} ms after the crash (lease ${LEASE_MS} ms, bound ${bound_s} s)"

# The assignment names only a1's workers and covers 1..100.
owners=$(rcli --raw HKEYS "$NS:assign" | grep -v '^_epoch' | sort | tr '\n' ' ')
[ "$owners" = "a1.w0 a1.w1 " ] || fail "assignment owners after failover: $owners"
