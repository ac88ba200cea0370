#!/usr/bin/env bash
# swarm-cli status on a fleet of more workers than a table shows: a few commands, not five per
# worker; the fleet's figures stand in for the rows and agree with them; --workers lists them
# all; stale fleet figures (no coordinator writing) fall back to reading every worker.
# The workers are simulated (bench/cpsim: the agent's own control-plane modules, no MQTT).
source "$(dirname "$0")/lib.sh"

W=70 CAP=10
N=$((W * CAP))
start_redis
rcli HSET "$NS:fleet" size "$N" >/dev/null
start_coordinator
COORD=$LAST_PGID
spawn "$T/cpsim.log" ${CS_WRAP:-} "$CS_BIN/cpsim" --name s --workers "$W" --capacity "$CAP" \
  --redis "redis://127.0.0.1:$REDIS_PORT"
fstat() { rcli --raw HGET "$NS:stats" "$1"; }
held_is() { [ "$(fstat connected)" = "$1" ] && [ "$(fstat unassigned)" = 0 ] && [ "$(fstat workers)" = "$W" ]; }
wait_for "$N chargers held by $W workers" 60 held_is "$N"

# --- the summary: counts, no rows, a pointer to --workers ---------------------------------------
calls0=$(rcli --raw INFO commandstats | awk -F'[=,:]' '/^cmdstat_(hmget|xrevrange|pttl|exists)/ {s += $3} END {print s + 0}')
cli status >"$T/status.txt" || fail "status failed: $(cat "$T/status.txt")"
calls1=$(rcli --raw INFO commandstats | awk -F'[=,:]' '/^cmdstat_(hmget|xrevrange|pttl|exists)/ {s += $3} END {print s + 0}')
grep -q "^fleet       $N chargers, $N running on $W workers" "$T/status.txt" || fail "status: $(head -1 "$T/status.txt")"
grep -q "^connected   $N " "$T/status.txt" || fail "status: $(sed -n 2p "$T/status.txt")"
grep -q "^$W workers, more than a table shows: swarm-cli status --workers" "$T/status.txt" ||
  fail "status does not say why the rows are left out: $(tail -3 "$T/status.txt")"
! grep -q "^WORKER " "$T/status.txt" || fail "status printed a worker table for $W workers"
# The coordinator and the simulated workers read and write meanwhile; the status itself is a
# handful of reads (the running run's HMGET, the fleet stream's XREVRANGE), not 5 x $W.
[ $((calls1 - calls0)) -lt $((W * 3)) ] || fail "status read per worker: $((calls1 - calls0)) per-worker-like commands"
log "status of $W workers: the summary and a pointer to --workers ($((calls1 - calls0)) reads of that kind while it ran)"

# --- JSON: the same figures, no workers array, and whether it is there ------------------------
sum=$(cli --json status)
echo "$sum" | jq -e --argjson n "$N" --argjson w "$W" '.fleet.workers == $w and .fleet.workers_listed == false and
  .fleet.chargers == $n and .fleet.connected == $n and (has("workers") | not)' >/dev/null ||
  fail "status --json: $(echo "$sum" | jq -c .fleet)"

# --- --workers: every row, and they add up to the summary ---------------------------------------
all=$(cli --json status --workers)
echo "$all" | jq -e --argjson n "$N" --argjson w "$W" '.fleet.workers_listed and (.workers | length) == $w and
  ([.workers[].chargers] | add) == $n and .fleet.chargers == $n' >/dev/null ||
  fail "status --json --workers: $(echo "$all" | jq -c '{fleet: .fleet.chargers, rows: (.workers | length)}')"
cli status --workers >"$T/all.txt"
[ "$(grep -c '^s\.w' "$T/all.txt")" = "$W" ] || fail "status --workers shows $(grep -c '^s\.w' "$T/all.txt") rows"
[ "$(cli --json agents | jq length)" = "$W" ] || fail "agents does not list every worker"
log "--workers: $W rows adding up to the summary's $N; agents lists $W"

# --- figures nobody writes any more are not trusted: every worker is read ----------------------
kill -STOP -- "-$COORD"
rcli HSET "$NS:stats" updated_ms 1 >/dev/null
stale=$(cli --json status)
rcli HSET "$NS:stats" updated_ms 99999999999999 >/dev/null   # a stamp from the future
future=$(cli --json status)
kill -CONT -- "-$COORD"
echo "$future" | jq -e --argjson w "$W" '.fleet.workers_listed and (.workers | length) == $w' >/dev/null ||
  fail "a future-dated stamp was trusted: $(echo "$future" | jq -c .fleet)"
echo "$stale" | jq -e --argjson n "$N" --argjson w "$W" '.fleet.workers_listed and (.workers | length) == $w and
  .fleet.chargers == $n' >/dev/null || fail "stale fleet figures: $(echo "$stale" | jq -c .fleet)"
log "stale or future-dated fleet figures (coordinator stopped): status reads every worker instead"
log "ok: a large fleet's status is a summary; --workers and agents list every worker"
