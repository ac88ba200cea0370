#!/usr/bin/env bash
# The scenarios in examples/scenarios/ pass `run --check` as they are, and each runs to its
# end against a platform stand-in once shrunk to a test's size (the same stages and thresholds; fleets of
# 20, waits of a few seconds, the thresholds that count chargers scaled with them): its run
# ends, its report is written and its thresholds are evaluated.
source "$(dirname "$0")/lib.sh"

EX=$(cd "$(dirname "$0")/../../examples/scenarios" && pwd)
examples=(ramp-and-hold boot-storm charging-day fault-drill)
for e in "${examples[@]}"; do
  cli run --check "$EX/$e.json" >/dev/null || fail "examples/scenarios/$e.json does not pass run --check"
done

start_redis
start_mosquitto
start_csms --interval 3 --delay-ms 10
rcli HSET "$NS:cfg" broker "tcp://127.0.0.1:$MQTT_PORT" qos 0 >/dev/null
rcli HSET "$NS:fleet" stats_interval_ms 500 >/dev/null
start_coordinator
start_agent a1 2 15

# Fleets of 20, waits of 4 s (a heartbeat of each charger: fake-csms sets 3 s), history every second, reports into $T; thresholds that count
# chargers (connected>=1000, sessions_started>=100) scaled to the fleet.
shrink() {
  jq '(.. | objects | select(has("scale")) | .scale) |= (if . > 20 then 20 else . end)
      | (.. | objects | select(has("wait")) | .wait) |= "4s"
      | .fleet.history_interval_s = 1
      | .thresholds |= map(sub("connected>=[0-9]+"; "connected>=20")
                           | sub("sessions_started>=[0-9]+"; "sessions_started>=1"))
      | .report.out = (.name + ".html")' "$1"
}
for e in "${examples[@]}"; do
  shrink "$EX/$e.json" >"$T/$e.json"
  cli run --check "$T/$e.json" >/dev/null || fail "shrunk $e does not pass the check"
  log "running $e"
  set +e
  (cd "$T" && exec "$CS_BIN/swarm-cli" run "$e.json" >"$e.out" 2>"$e.err")
  rc=$?
  set -e
  case $rc in 0|1) ;; *) fail "$e: exit $rc: $(tail -5 "$T/$e.err") $(tail -5 "$T/$e.out")" ;; esac
  grep -q "^run .* \(passed\|failed\)" "$T/$e.err" || fail "$e: no verdict"
  [ -s "$T/$e.html" ] || fail "$e: no report"
  n=$(jq '.thresholds | length' "$T/$e.json")
  [ "$(grep -c '^\(passed\|FAILED\) ' "$T/$e.out")" = "$n" ] || fail "$e: $n thresholds, printed: $(grep -c '^\(passed\|FAILED\) ' "$T/$e.out")"
  id=$(rcli ZREVRANGE "$NS:runs" 0 0)
  [ "$(rcli HGET "$NS:run:$id" name)" = "$e" ] && [ "$(rcli HGET "$NS:run:$id" state)" = ended ] ||
    fail "$e: run $id is $(rcli HGET "$NS:run:$id" state)"
  log "$e: exit $rc, $(grep -c '^passed ' "$T/$e.out")/$n thresholds passed"
  grep '^FAILED ' "$T/$e.out" || true
done
# The soak's thresholds hold against a platform that answers everything at once.
grep -q "^run .* passed" "$T/ramp-and-hold.err" || fail "ramp-and-hold failed: $(grep '^FAILED' "$T/ramp-and-hold.out")"
grep -q "^run .* passed" "$T/boot-storm.err" || fail "boot-storm failed: $(grep '^FAILED' "$T/boot-storm.out")"
log "every example ran to its end"
