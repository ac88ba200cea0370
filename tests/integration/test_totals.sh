#!/usr/bin/env bash
# Fleet totals never go down: a worker killed with SIGKILL (its next run counts from 0), the
# coordinator restarted (it goes on from the base and the copies it saved), a worker that
# leaves for good, Redis restarting empty (the coordinator writes back what it counted).
# Sampled all along from {ns}:stats and `swarm-cli status --json`.
source "$(dirname "$0")/lib.sh"

N=20
start_redis
start_mosquitto
start_csms --interval 1
setup_fleet $N stats_interval_ms 500
rcli HSET "$NS:cfg" heartbeat_s 1 meter_s 1 >/dev/null
start_coordinator
start_agent a1 2 10
start_agent b1 1 10
B1=$LAST_PGID
wait_for "$N chargers connected" 30 connected_is $N
wait_eval "fleet totals written" 20 '[ -n "$(rcli HGET "$NS:stats" conf.Heartbeat.calls)" ]'

FIELDS="msgs_out msgs_in answers conf.Heartbeat.calls conf.Heartbeat.answered conf.MeterValues.calls"
# The sampler: one line per sample, the fields in order, then status --json's fleet msgs_out.
sampler() {
  while :; do
    echo "$(rcli HMGET "$NS:stats" $FIELDS | tr '\n' ' ')$(cli --json status 2>/dev/null | jq -r '.fleet.msgs_out')"
    window_until $(( $(now_ms) + 200 ))
  done
}
sampler >"$T/samples.txt" 2>/dev/null &
PIDS+=("$!")
samples() { wc -l <"$T/samples.txt"; }
wait_eval "samples" 10 '[ "$(samples)" -ge 5 ]'
out() { rcli HGET "$NS:stats" msgs_out; }

# 1. kill -9 a worker: the supervisor restarts it, its counters start from 0.
w0=$(rcli HGET "$NS:agent:a1.w0" pid)
run0=$(rcli HGET "$NS:stats:a1.w0" started_ms)
before=$(out)
kill -KILL "$w0"
new_run() { local r; r=$(rcli HGET "$NS:stats:a1.w0" started_ms); [ -n "$r" ] && [ "$r" != "$run0" ]; }
wait_for "a1.w0's next run writes its stats" 20 new_run
wait_for "the coordinator folds a1.w0's previous run into the base" 10 \
  grep -q "worker a1.w0 restarted; its previous run's figures are added to the base" "$T/coordinator.log"
wait_for "$N chargers connected again" 30 connected_is $N
wait_eval "the fleet counts on" 15 '[ "$(out)" -gt "$before" ]'
[ "$(rcli HGET "$NS:totals:base" _folded.a1.w0)" != "" ] || fail "no _folded.a1.w0 marker in the base"

# 2. Restart the coordinator: it goes on from what it saved.
n=$(samples)
kill -TERM -- "-${PGIDS[3]}" 2>/dev/null || true
wait_for "coordinator stopped" 10 group_gone "${PGIDS[3]}"
start_coordinator 2
wait_for "the new coordinator loaded the totals" 15 grep -q "fleet totals: loaded (3 workers)" "$T/coordinator2.log"
wait_eval "samples after the restart" 15 '[ "$(samples)" -ge $((n + 10)) ]'

# 3. A worker that leaves for good (its agent stops): its figures stay in the totals.
kill -TERM -- "-$B1"
wait_for "b1 stopped" 15 group_gone "$B1"
wait_eval "b1.w0's lease gone" 30 '[ "$(rcli ZSCORE "$NS:agents" b1.w0)" = "" ]'
n=$(samples)
wait_eval "samples after b1 left" 15 '[ "$(samples)" -ge $((n + 10)) ]'

# 4. Redis restarts empty (no persistence): the coordinator writes the totals back.
before=$(out)
restart_redis
setup_fleet $N stats_interval_ms 500   # the operator's settings (this agent does not restore them)
rcli HSET "$NS:cfg" heartbeat_s 1 meter_s 1 >/dev/null
wait_for "the coordinator writes the totals back" 20 grep -q "fleet totals: Redis lost them" "$T/coordinator2.log"
wait_eval "fleet figures again" 20 '[ -n "$(out)" ] && [ "$(out)" -ge "$before" ]'
[ -n "$(rcli HGET "$NS:totals:base" _folded.a1.w0)" ] || fail "the base written back without its marker"
n=$(samples)
wait_eval "samples after Redis came back" 20 '[ "$(samples)" -ge $((n + 10)) ]'

# 5. A worker's hash that is not whole (what its changed-field writes leave right after Redis
# lost its data, until its next full write): the worker frozen, its hash replaced by a few
# fields; its previous figures stand.
w0=$(rcli --raw HGET "$NS:agent:a1.w0" pid)
kill -STOP "$w0"
rcli DEL "$NS:stats:a1.w0" >/dev/null
rcli HSET "$NS:stats:a1.w0" msgs_out 1 msgs_in 1 updated_ms "$(now_ms)" >/dev/null
n=$(samples)
wait_eval "samples with a partial worker hash" 10 '[ "$(samples)" -ge $((n + 8)) ]'
kill -CONT "$w0"

# Every field, every sample: never lower than the sample before.
python3 - "$T/samples.txt" $FIELDS status.msgs_out <<'PY' || fail "a fleet total went down (see above)"
import sys
names = sys.argv[2:]
prev = [None] * len(names)
bad = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    vals = line.split()
    if len(vals) != len(names):
        continue
    for i, v in enumerate(vals):
        if not v.isdigit():
            continue
        v = int(v)
        if prev[i] is not None and v < prev[i]:
            print(f"sample {n}: {names[i]} went down from {prev[i]} to {v}")
            bad += 1
        prev[i] = v
print(f"{n} samples, {bad} decreases; last: " + " ".join(f"{a}={b}" for a, b in zip(names, prev)))
sys.exit(1 if bad else 0)
PY
log "fleet totals monotonic through a kill -9, a coordinator restart, a worker leaving, Redis restarting empty and a partial worker hash"
