#!/usr/bin/env bash
# swarm-cli run FILE: a scenario checked (errors with file, line and column), run to its end
# against a platform stand-in (progress lines, its run recorded with the scenario, the report
# written, the exit status by its thresholds, passing and failing), stopped cleanly by Ctrl-C,
# and run twice with the same seed: the same commands and the same chargers picked.
source "$(dirname "$0")/lib.sh"

# ---- checking without a swarm ---------------------------------------------------------------
cat >"$T/bad.json" <<'EOF'
{
  "name": "bad",
  "stages": [
    {"scale": 10},
    {"config": {"heartbeat_s": 0}}
  ]
}
EOF
set +e
out=$(cli run --check "$T/bad.json" 2>&1); rc=$?
set -e
[ $rc = 2 ] || fail "run --check of a bad file: exit $rc"
grep -q "bad.json:5:32: heartbeat_s" <<<"$out" || fail "no line and column: $out"
cat >"$T/bad2.json" <<'EOF'
{"name": "x", "stages": [{"command": "start CP-1 speed=3"}]}
EOF
out=$(cli run --check "$T/bad2.json" 2>&1) && fail "a bad command passed the check"
grep -q "bad2.json:1:38: " <<<"$out" || fail "command error position: $out"
out=$(cli run --check "$T/nosuch.json" 2>&1) && fail "a missing file passed"
grep -q "cannot open .*nosuch.json: No such file" <<<"$out" || fail "missing file: $out"

# ---- a swarm --------------------------------------------------------------------------------
start_redis
start_mosquitto
start_csms --interval 2 --delay-ms 20 --action-delay StartTransaction=80
rcli HSET "$NS:cfg" broker "tcp://127.0.0.1:$MQTT_PORT" qos 0 >/dev/null
rcli HSET "$NS:fleet" stats_interval_ms 500 >/dev/null
start_coordinator
start_agent a1 2 10

cat >"$T/smoke.json" <<'EOF'
{
  "name": "smoke",
  "seed": 7,
  "fleet": {"history_interval_s": 1},
  "config": {"heartbeat_s": 2, "meter_s": 2},
  "stages": [
    {"scale": 12, "ramp_per_s": 50, "timeout": "30s"},
    {"wait": "2s"},
    {"reset_stats": true},
    {"command": "start 'CP-00000*' kw=11"},
    {"wait": "3s", "label": "charging"},
    {"chaos": "reboot", "select": "random:3"},
    {"repeat": 2, "stages": [{"chaos": "offline", "select": "CP-000011", "args": {"seconds": 1}}, {"wait": "1s"}]},
    {"wait": "2s"}
  ],
  "thresholds": ["conf.StartTransaction.p95<500ms", "conf.BootNotification.error_rate<1%", "requests>10"],
  "report": {"format": "html", "out": "report.html"}
}
EOF
(cd "$T" && cli run smoke.json --format json --out smoke.json.out >run.out 2>run.err) ||
  fail "run smoke.json: exit $?: $(tail -20 "$T/run.err") $(tail -20 "$T/run.out")"
cat "$T/run.out"
tail -5 "$T/run.err"
grep -q "step 1/11: scale 12 (ramp 50/s)" "$T/run.out" || fail "no step lines"
grep -q "step 7/11: repeat 1/2: chaos offline CP-000011" "$T/run.out" || fail "repeat not expanded"
grep -q "^stage [0-9]*/11 .* connected [0-9]*/12 .* msgs/s  errors [0-9]*$" "$T/run.err" ||
  fail "no progress line: $(head -5 "$T/run.err")"
grep -q "^passed  conf.StartTransaction.p95<500ms" "$T/run.out" ||
  fail "thresholds not printed: $(tail "$T/run.out")"
grep -q "run .* passed" "$T/run.err" || fail "no verdict: $(tail -3 "$T/run.err")"
id=$(jq -r .run.id "$T/smoke.json.out")
[ "$(rcli HGET "$NS:run:$id" state)" = ended ] || fail "run $id not ended"
[ "$(rcli HGET "$NS:run:$id" result)" = passed ] || fail "run $id result $(rcli HGET "$NS:run:$id" result)"
grep -q '"name": "smoke"' <<<"$(rcli HGET "$NS:run:$id" scenario)" || fail "scenario text not kept"
[ "$(rcli HGET "$NS:run:$id" seed)" = 7 ] || fail "seed not recorded"
[ "$(rcli HGET "$NS:fleet" seed)" = 7 ] || fail "fleet seed not set"
[ -n "$(rcli HGET "$NS:run:$id" reset_ms)" ] || fail "reset_stats did not reset"
jq -e '.passed and (.thresholds | length) == 3 and .aggregated.CALL.requests > 10' "$T/smoke.json.out" >/dev/null ||
  fail "report: $(head -c 400 "$T/smoke.json.out")"
[ ! -e "$T/report.html" ] || fail "--out did not take precedence over the scenario's report"

# A failing threshold: exit 1, the report still written.
set +e
(cd "$T" && cli run smoke.json --threshold 'conf.StartTransaction.p95<1ms' --out fail.html >fail.out 2>fail.err)
rc=$?
set -e
[ $rc = 1 ] || fail "a failing threshold: exit $rc: $(tail -5 "$T/fail.err")"
grep -q "^FAILED  conf.StartTransaction.p95<1ms" "$T/fail.out" || fail "no FAILED line: $(tail "$T/fail.out")"
[ -s "$T/fail.html" ] || fail "no report after a failed threshold"

# ---- Ctrl-C: the run stops cleanly, reported all the same ------------------------------------
cat >"$T/long.json" <<'EOF'
{"name": "long", "fleet": {"history_interval_s": 1},
 "stages": [{"scale": 12, "timeout": "30s"}, {"command": "start CP-000003"}, {"wait": "10m"}],
 "thresholds": ["conf.Heartbeat.p99<1s"]}
EOF
(cd "$T" && exec "$CS_BIN/swarm-cli" run long.json --format csv --out long >long.out 2>long.err) &
runner=$!
wait_for "the long run to hold" 30 grep -q "step 3/3: wait" "$T/long.out"
wait_eval "a transaction open" 20 '[ "$(rcli HGET "$NS:stats" transactions)" -ge 1 ]'
kill -INT $runner
set +e
wait $runner
rc=$?
set -e
grep -q "interrupted: stopping the run at step 3/3" "$T/long.out" || fail "no interruption line: $(tail "$T/long.out")"
[ $rc = 0 ] || fail "interrupted run exit $rc (thresholds passed): $(tail -5 "$T/long.err")"
[ -s "$T/long_stats.csv" ] || fail "no report after Ctrl-C"
lid=$(rcli ZREVRANGE "$NS:runs" 0 0)
[ "$(rcli HGET "$NS:run:$lid" state)" = ended ] || fail "the interrupted run is $(rcli HGET "$NS:run:$lid" state)"
[ "$(rcli HGET "$NS:stats" transactions)" = 0 ] || fail "transactions left open after Ctrl-C"

# ---- the same scenario and seed: the same commands, the same chargers -------------------------
cat >"$T/seeded.json" <<'EOF'
{"name": "seeded", "seed": 99, "fleet": {"history_interval_s": 1},
 "stages": [{"scale": 12, "timeout": "30s"}, {"wait": "1s"},
            {"chaos": "reboot", "select": "random:4"}, {"wait": "3s"},
            {"command": "trigger random:25% DataTransfer vendorId=seeded"}, {"wait": "2s"}]}
EOF
picked() { # RUN_ID -> the chargers that booted again and sent the DataTransfer during the run
  local s e
  s=$(rcli HGET "$NS:run:$1" started_ms); e=$(rcli HGET "$NS:run:$1" ended_ms)
  jq -r --argjson s "$s" --argjson e "$e" 'select(.dir == "in" and .t >= $s and .t <= $e and
    (.frame | type) == "array" and (.frame[2] == "BootNotification" or .frame[2] == "DataTransfer"))
    | "\(.frame[2]) \(.charger)"' "$T/csms.jsonl" | sort -u
}
commands() { # RUN_ID -> the commands it sent, without ids and times
  local s e
  s=$(rcli HGET "$NS:run:$1" started_ms); e=$(rcli HGET "$NS:run:$1" ended_ms)
  rcli --raw XRANGE "$NS:cmdlog" "$s" "$e" | grep '^{' | jq -c 'del(.id, .ts, .log)'
}
for i in 1 2; do
  (cd "$T" && cli run seeded.json --out "seeded$i.txt" >"seeded$i.out" 2>&1) || fail "seeded run $i: $(tail "$T/seeded$i.out")"
  sid[$i]=$(rcli ZREVRANGE "$NS:runs" 0 0)
  picked "${sid[$i]}" >"$T/picked$i.txt"
  commands "${sid[$i]}" >"$T/commands$i.txt"
done
[ -s "$T/picked1.txt" ] && [ "$(grep -c DataTransfer "$T/picked1.txt")" = 3 ] || fail "random:25% of 12 picked $(cat "$T/picked1.txt")"
diff "$T/picked1.txt" "$T/picked2.txt" || fail "the same seed picked other chargers"
[ "$(wc -l <"$T/commands1.txt")" -ge 2 ] || fail "no commands logged: $(cat "$T/commands1.txt")"
diff "$T/commands1.txt" "$T/commands2.txt" || fail "the same scenario sent other commands"
log "scenario: checked, run, reported, interrupted cleanly, reproducible with its seed"
