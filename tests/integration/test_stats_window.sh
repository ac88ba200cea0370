#!/usr/bin/env bash
# Latency over the last stats_window_s, beside the since-start figures: commands that took 3 s
# (their `ts` three seconds old) fill the window's percentiles at once while the since-start
# p50 stays low, leave the window when it has passed and stay in the since-start max; the
# coordinator merges the workers' windows into the fleet's; swarm-cli status (text and --json)
# shows both; a new stats_window_s applies to the running workers.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 10 stats_interval_ms 200 stats_window_s 5
start_coordinator
start_agent a1 2 5
wait_for "10 chargers connected" 30 connected_is 10
wait_eval "two workers" 10 '[ "$(cli --json status | jq ".workers | length")" = 2 ]'

fleet() { rcli HGET "$NS:stats" "$1"; }
# A command every worker runs and times: resume of a charger that is not paused changes nothing.
cmd_at() { rcli PUBLISH "$NS:cmd" "resume CP-000001 ts=$1" >/dev/null; }
# $1 >= $2, as decimals
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# ---- 40 quick commands: 80 samples (each worker times each) ----
# (the counts start from what is there: each worker also timed its assignment)
base=$(fleet cmd_count)
for _ in $(seq 40); do cmd_at "$(now_ms)"; done
wait_eval "80 more command samples in the fleet stats" 10 '[ "$(fleet cmd_count)" -ge $((base + 80)) ]'
quick_p99=$(fleet cmd_p99_ms)
log "40 quick commands: since-start p99 ${quick_p99} ms, window count $(fleet cmd_win_count)"
ge 500 "$quick_p99" || fail "quick commands took ${quick_p99} ms at p99"

# The window empties once 5 s have passed without a command; the since-start figures stay.
wait_eval "the 5 s window empty" 15 '[ "$(fleet cmd_win_count)" = 0 ]'
base=$(fleet cmd_count)
[ "$base" -ge 80 ] || fail "since-start count: $base"
[ "$(fleet cmd_win_p99_ms)" = 0.000 ] || fail "empty window p99: $(fleet cmd_win_p99_ms)"
cli status >"$T/status-empty.txt"
grep -Eq '^latency +last 5 s +ack p50 .* command p99 - ' "$T/status-empty.txt" ||
  fail "status, empty window: $(grep -A1 '^latency' "$T/status-empty.txt")"

# ---- 5 slow commands (3 s old): the window holds only them ----
t_slow=$(now_ms)
for _ in $(seq 5); do cmd_at $((t_slow - 3000)); done
wait_eval "10 more command samples" 10 '[ "$(fleet cmd_count)" -ge $((base + 10)) ]'
win_n=$(fleet cmd_win_count); win_p50=$(fleet cmd_win_p50_ms); all_p50=$(fleet cmd_p50_ms)
log "after 5 slow commands: window p50 $win_p50 ms (count $win_n), since-start p50 $all_p50 ms, p99 $(fleet cmd_p99_ms) ms"
[ "$win_n" -ge 10 ] && [ "$win_n" -le 12 ] || fail "window count $win_n, want 10"
ge "$win_p50" 2500 || fail "window p50 $win_p50 ms: the slow commands are not in it"
ge 500 "$all_p50" || fail "since-start p50 $all_p50 ms: the 80 quick samples should hold it down"
ge "$(fleet cmd_p99_ms)" 2500 || fail "since-start p99 $(fleet cmd_p99_ms) ms"
for w in a1.w0 a1.w1; do
  n=$(rcli HGET "$NS:stats:$w" cmd_win_count)
  [ "$n" -ge 5 ] && [ "$n" -le 6 ] || fail "$w window count $n, want 5"
done
cli status >"$T/status-slow.txt"
cat "$T/status-slow.txt"
grep -Eq '^latency +last 5 s +ack p50 .* command p99 [0-9]{4}\.[0-9] ms' "$T/status-slow.txt" ||
  fail "status shows no slow command p99 in the window"
grep -Eq '^ +since start +ack p50 .* command p99 [0-9]{4}\.[0-9] ms' "$T/status-slow.txt" ||
  fail "status shows no since-start line"
cli --json status >"$T/status.json"
jq -e '.fleet.latency.window_s == 5 and .fleet.latency.cmd.win_count >= 10 and
  .fleet.latency.cmd.count >= 90 and .fleet.latency.cmd.win_p50_ms >= 2500 and
  .fleet.latency.cmd.p50_ms < 500 and (.fleet.latency | has("ack") and has("conf") and has("cfg"))' \
  "$T/status.json" >/dev/null || fail "status --json latency: $(jq -c .fleet.latency "$T/status.json")"

# ...and leaves it after 5 s; the since-start max keeps them.
wait_eval "the slow commands out of the window" 15 '[ "$(fleet cmd_win_count)" = 0 ]'
ge "$(fleet cmd_max_ms)" 2500 || fail "since-start max $(fleet cmd_max_ms) ms"
log "window empty again after $(( $(now_ms) - t_slow )) ms; since-start max $(fleet cmd_max_ms) ms"

# ---- a wider window, live ----
cli config set --fleet stats_window_s=60 >/dev/null
wait_eval "status shows the 60 s window" 10 'cli status | grep -E "^latency +last 60 s "'
base=$(fleet cmd_count)
t_slow=$(now_ms)
for _ in $(seq 5); do cmd_at $((t_slow - 3000)); done
wait_eval "10 more command samples" 10 '[ "$(fleet cmd_count)" -ge $((base + 10)) ]'
window_until $((t_slow + 7000))   # longer than the old window
n=$(fleet cmd_win_count)
log "7 s after 5 more slow commands, 60 s window: count $n, p50 $(fleet cmd_win_p50_ms) ms"
[ "${n:-0}" -ge 10 ] || fail "60 s window holds $n samples 7 s later"
ge "$(fleet cmd_win_p50_ms)" 2500 || fail "60 s window p50 $(fleet cmd_win_p50_ms) ms"

# An invalid window is refused and the old one stays.
redis_sub "$T/events.txt" "$NS:events"
rcli HSET "$NS:fleet" stats_window_s 0 >/dev/null
wait_for "the rejection event" 10 grep -q "config_rejected.*stats_window_s" "$T/events.txt"
[ "$(cli --json status | jq .fleet.latency.window_s)" = 60 ] || fail "window after a bad value: $(cli --json status | jq .fleet.latency.window_s)"
log "ok"
