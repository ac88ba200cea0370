#!/usr/bin/env bash
# (deploy) Three load hosts as network namespaces on a bridge: Redis, mosquitto and the
# coordinator in a fourth namespace (the "hub", 10.77.0.1), one agent per host namespace
# (10.77.0.11-13), each reading its own config file. A fleet of 150 spreads over all three;
# one host's agent is SIGKILLed (its whole process group) and its chargers move to the other
# two: all 150 connected again within the lease plus a few seconds.
# Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) for `ip netns`; skipped otherwise. The
# namespaces and links are removed at exit, also on failure.
source "$(dirname "$0")/lib.sh"

NET=10.77.0
netns_lab 3 "$NET"
log "namespaces: hub $HUB ($NET.1) and hosts $(host_ns 1)..3 ($NET.11-13) on a bridge"

# Redis and mosquitto on the bridge address, in the hub. Everything that talks to them runs
# there too: the harness's rcli and cli are redefined accordingly.
hub_servers "$NET"
for i in 1 2 3; do
  wait_for "host $i to reach Redis over the bridge" 10 ip netns exec "$(host_ns "$i")" redis-cli -h 10.77.0.1 -p 6379 ping
done

LEASE_MS=2000
rcli HSET "$NS:cfg" broker tcp://10.77.0.1:1883 >/dev/null
rcli HSET "$NS:fleet" size 150 lease_ms "$LEASE_MS" ramp_per_s 500 >/dev/null

# Each program reads its settings from a config file (the harness's leftover check also
# finds them by it); the environment's SWARM_REDIS must not be what makes them work.
cat >"$T/coordinator.conf" <<EOF
redis = redis://10.77.0.1:6379/0
namespace = $NS
id = hub-coord
tick-ms = 200
EOF
spawn "$T/coordinator.log" ip netns exec "$HUB" env -u SWARM_REDIS "$CS_BIN/swarm-coordinator" \
  --config "$T/coordinator.conf"
HOST_PGID=()
for i in 1 2 3; do
  cat >"$T/host$i.conf" <<EOF
redis = redis://10.77.0.1:6379/0
namespace = $NS
name = host$i
workers = 2
max-chargers = 50
stop-timeout = 3
EOF
  spawn "$T/agent-host$i.log" ip netns exec "$(host_ns "$i")" env -u SWARM_REDIS "$CS_BIN/swarm-agent" \
    --config "$T/host$i.conf"
  HOST_PGID[$i]=$LAST_PGID
done

# Chargers of one host: the sum over its workers.
host_chargers() { cli --json status | jq --arg h "host$1" '[.workers[] | select(.name | startswith($h + ".w")) | .connected] | add // 0'; }
spread() { for i in 1 2 3; do [ "$(host_chargers "$i")" -gt 0 ] || return 1; done; }
wait_for "150 chargers connected" 60 connected_is 150
wait_for "chargers on all three hosts" 20 spread
log "150 connected: host1 $(host_chargers 1), host2 $(host_chargers 2), host3 $(host_chargers 3)"
# The brokers saw them come from the three host addresses.
sources() { grep -oE 'New client connected from 10\.77\.0\.1[0-9]' "$T/mosquitto.log" | awk '{print $NF}' | sort -u | tr '\n' ' '; }
[ "$(sources)" = "10.77.0.11 10.77.0.12 10.77.0.13 " ] || fail "MQTT clients came from: $(sources)"

# ---- host 2 dies: SIGKILL to its agent's whole process group -----------------------------------
moved_from=$(host_chargers 2)
lines_before=$(wc -l <"$T/mosquitto.log")
t0=$(now_ms)
kill -KILL -- "-${HOST_PGID[2]}"
{ wait "${HOST_PGID[2]}"; } 2>/dev/null || true    # reaped here: no job notice in the output
wait_for "host2's processes to be gone" 5 group_gone "${HOST_PGID[2]}"
only_two_hosts() {
  local names
  names=$(cli --json status | jq -r '[.workers[].name | sub("\\.w[0-9]+$"; "")] | unique | join(" ")')
  [ "$names" = "host1 host3" ]
}
budget=$(( LEASE_MS / 1000 + 8 ))
wait_for "host2's workers to drop out (lease $LEASE_MS ms)" "$budget" only_two_hosts
wait_for "all 150 connected on host1 and host3" "$budget" connected_is 150
took=$(( $(now_ms) - t0 ))
h1=$(host_chargers 1)
h3=$(host_chargers 3)
[ $((h1 + h3)) -eq 150 ] || fail "host1 $h1 + host3 $h3 != 150"
[ "$took" -le $((budget * 1000)) ] || fail "took $took ms, budget $budget s"
# The moved chargers reconnected from the surviving hosts only.
moved_sources=$(tail -n +"$((lines_before + 1))" "$T/mosquitto.log" |
  grep -oE 'New client connected from 10\.77\.0\.1[0-9]' | awk '{print $NF}' | sort -u | tr '\n' ' ')
[ "$moved_sources" = "10.77.0.11 10.77.0.13 " ] || fail "reconnections came from: $moved_sources"
log "ok: host2 killed with $moved_from chargers; all 150 connected again in $took ms (lease $LEASE_MS ms): host1 $h1, host3 $h3"
