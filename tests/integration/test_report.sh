#!/usr/bin/env bash
# Runs and reports against a platform stand-in with a known delay and error rate per action:
# run start, stats reset (the warm-up dropped), a report while it runs, run stop (open
# transactions end first), then every format: the table, Locust's three CSV files read with
# Python's csv module (its exact columns; counts and medians against what fake-csms did),
# JSON, HTML (opened in headless Chromium: report_driver.js), thresholds that pass, fail and
# are malformed, a time range; finally the same report with every process but Redis stopped.
source "$(dirname "$0")/lib.sh"

N=10
start_redis
start_mosquitto
start_csms --interval 2 --delay-ms 60 --action-delay StartTransaction=150,Authorize=100 \
  --action-error Authorize=0.5:InternalError --seed 11
setup_fleet $N stats_interval_ms 500 history_interval_s 1
rcli HSET "$NS:cfg" heartbeat_s 2 meter_s 2 qos 0 >/dev/null
start_coordinator
start_agent a1 2 5
wait_for "$N chargers connected" 30 connected_is $N

# No run yet: a report says so.
out=$(cli report 2>&1) && fail "report without any run: $out"
grep -q "no runs yet" <<<"$out" || fail "report without runs: $out"

id=$(cli --json run start smoke | jq -r .id)
[ -n "$id" ] && [ "$id" != null ] || fail "run start printed no id"
out=$(cli run start other 2>&1) && fail "a second run started while $id runs: $out"
grep -q "run $id is running" <<<"$out" || fail "second run start: $out"
[ "$(rcli HGET "$NS:run:$id" state)" = running ] || fail "run record: $(rcli HGETALL "$NS:run:$id")"
rcli HGET "$NS:run:$id" config | jq -e '.fleet.size == "10" and (.cfg | has("heartbeat_s"))' >/dev/null ||
  fail "config snapshot: $(rcli HGET "$NS:run:$id" config)"

# Warm-up traffic, then a reset: the run counts from there.
wait_eval "warm-up heartbeats" 20 '[ "$(rcli HGET "$NS:stats" conf.Heartbeat.calls)" -ge 5 ]'
grep -q "figures count from now on" <<<"$(cli stats reset)" || fail "stats reset"
reset=$(rcli HGET "$NS:run:$id" reset_ms)
[ -n "$reset" ] || fail "no reset_ms"
base_hb=$(rcli HGET "$NS:run:$id:base" conf.Heartbeat.calls)
[ "${base_hb:-0}" -ge 5 ] || fail "the new base holds the warm-up: ${base_hb:-none}"

# The measured part: sessions (Authorize 100 ms, half InternalError; StartTransaction 150 ms).
cli start '*' >/dev/null || true
wait_eval "Authorize answered" 20 \
  '[ $(( $(rcli HGET "$NS:stats" conf.Authorize.answered) + $(rcli HGET "$NS:stats" conf.Authorize.errors) )) -ge $N ]'
wait_eval "transactions open" 20 '[ "$(rcli HGET "$NS:stats" transactions)" -ge 2 ]'
entries_since() { rcli XRANGE "$NS:history" "$1" + COUNT 1000 | grep -c '^fleet_size$' || true; }
wait_eval "6 history entries since the reset" 30 '[ "$(entries_since "$reset")" -ge 6 ]'
cli report >"$T/live.txt" || fail "report while running: $(cat "$T/live.txt")"
grep -q "still running" "$T/live.txt" || fail "live report: $(cat "$T/live.txt")"
grep -q "CALL  Authorize" "$T/live.txt" || fail "live report rows: $(cat "$T/live.txt")"

# Stop: open transactions end (StopTransaction reason Local) before the end mark.
cli run stop >"$T/stop.txt" || fail "run stop: $(cat "$T/stop.txt")"
grep -q "run $id ended" "$T/stop.txt" || fail "run stop: $(cat "$T/stop.txt")"
[ "$(rcli HGET "$NS:stats" transactions)" = 0 ] || fail "transactions still open after run stop"
grep -q '"dir":"in".*"StopTransaction".*"reason":"Local"' "$T/csms.jsonl" ||
  fail "no StopTransaction reason Local"
[ "$(rcli HGET "$NS:run:$id" state)" = ended ] || fail "state $(rcli HGET "$NS:run:$id" state)"
[ "$(rcli XLEN "$NS:run:$id:history")" -ge 2 ] || fail "the run kept no history"
grep -q "$id *ended" <<<"$(cli run list)" || fail "run list: $(cli run list)"
# What {ns}:history costs: bounded per entry (docs/results.md quotes this figure).
n=$(rcli XLEN "$NS:history")
bytes=$(rcli MEMORY USAGE "$NS:history" SAMPLES 0)
log "{ns}:history: $n entries, $((bytes / n)) bytes each with $(rcli HKEYS "$NS:stats" | grep -c '^conf\..*\.calls$') uplink actions"
[ $((bytes / n)) -lt 16384 ] || fail "{ns}:history entries of $((bytes / n)) bytes"

# ---- formats ------------------------------------------------------------------------------
cli report --run "$id" >"$T/report.txt" || fail "report: $(cat "$T/report.txt")"
cat "$T/report.txt"
cli report --run "$id" --format csv --out "$T/locust" 2>"$T/csv.err" || fail "csv: $(cat "$T/csv.err")"
for f in stats stats_history failures; do [ -s "$T/locust_$f.csv" ] || fail "no locust_$f.csv"; done
cli report --run "$id" --format csv >"$T/stdout.csv" || fail "csv on stdout"
cmp -s "$T/stdout.csv" "$T/locust_stats.csv" || fail "csv on stdout differs from _stats.csv"
cli report --run "$id" --format json >"$T/report.json" || fail "json"
cli report --run "$id" --format html --out "$T/report.html" 2>/dev/null || fail "html"

# What fake-csms did during the run (after the reset): CALLs and CALLERRORs per action.
python3 - "$T/csms.jsonl" "$reset" "$(rcli HGET "$NS:run:$id" ended_ms)" >"$T/did.txt" <<'EOF'
import json, sys, collections
lo, hi = int(sys.argv[2]), int(sys.argv[3])
act = {}; errs = collections.Counter(); answers = collections.Counter()
for line in open(sys.argv[1]):
    m = json.loads(line); f = m.get("frame")
    if not isinstance(f, list) or len(f) < 3:
        continue
    if m["dir"] == "in" and f[0] == 2:
        act[f[1]] = (f[2], m["t"])
    elif m["dir"] == "out" and f[1] in act:
        a, t = act[f[1]]
        if lo + 1500 <= t <= hi - 1500:   # well inside the run: no doubt about its side
            answers[a] += 1
            if f[0] == 4:
                errs[a] += 1
for a in sorted(answers):
    print(a, answers[a], errs[a])
EOF
cat "$T/did.txt"

# Locust's CSV, read as Locust's tooling reads it.
python3 - "$T/locust" "$T/did.txt" <<'EOF' || fail "Locust CSV check failed"
import csv, sys
pfx = sys.argv[1]
pct = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
want = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
        "Average Response Time", "Min Response Time", "Max Response Time",
        "Average Content Size", "Requests/s", "Failures/s"] + pct
rows = list(csv.DictReader(open(pfx + "_stats.csv", newline="")))
assert list(rows[0].keys()) == want, rows[0].keys()
by = {(r["Type"], r["Name"]): r for r in rows}
agg = by[("", "Aggregated")]
calls = [r for r in rows if r["Type"] == "CALL"]
assert sum(int(r["Request Count"]) for r in calls) == int(agg["Request Count"])
assert sum(int(r["Failure Count"]) for r in calls) == int(agg["Failure Count"])
a = by[("CALL", "Authorize")]
req, fail = int(a["Request Count"]), int(a["Failure Count"])
assert req >= 10 and 0 < fail < req, (req, fail)
med = float(a["Median Response Time"])
assert 100 <= med <= 125, med          # fake-csms waited 100 ms; buckets are ~19% wide
st = by[("CALL", "StartTransaction")]
assert 150 <= float(st["Median Response Time"]) <= 185, st["Median Response Time"]
hb = by[("CALL", "Heartbeat")]
assert 60 <= float(hb["Median Response Time"]) <= 75, hb["Median Response Time"]
for r in rows:
    for p in pct:
        assert r[p] == "N/A" or r[p].isdigit(), (r["Name"], p, r[p])
    assert float(r["Requests/s"]) >= 0
# Fewer or as many as fake-csms answered inside the run, never fewer than it answered well
# inside it (the run's edges are exact to one stats interval).
did = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[2])}
for name, (answers, errors) in did.items():
    r = by.get(("CALL", name))
    assert r is not None, name
    assert int(r["Request Count"]) >= answers, (name, r["Request Count"], answers)
    assert int(r["Failure Count"]) >= errors, (name, r["Failure Count"], errors)
h = list(csv.DictReader(open(pfx + "_stats_history.csv", newline="")))
hwant = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"] + pct + [
    "Total Request Count", "Total Failure Count", "Total Median Response Time",
    "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
    "Total Average Content Size"]
assert list(h[0].keys()) == hwant, h[0].keys()
assert len(h) >= 3 and all(r["Name"] == "Aggregated" for r in h)
assert all(int(r["User Count"]) <= 10 for r in h)
assert [int(r["Total Request Count"]) for r in h] == sorted(int(r["Total Request Count"]) for r in h)
f = list(csv.DictReader(open(pfx + "_failures.csv", newline="")))
assert list(f[0].keys()) == ["Method", "Name", "Error", "Occurrences"]
fa = [r for r in f if r["Name"] == "Authorize" and r["Error"] == "CALLERROR InternalError"]
assert fa and int(fa[0]["Occurrences"]) == fail, (fa, fail)
print("Locust CSV ok:", len(rows), "rows,", len(h), "history rows; Authorize", req, "requests,", fail, "failures, median", med)
EOF

# JSON: every figure; the run's record; history series of one length.
jq -e --arg id "$id" '.run.id == $id and .run.name == "smoke" and (.actions | length) >= 4 and
  (.history.t | length) >= 3 and (.history.connected | length) == (.history.t | length) and
  .aggregated.CALL.requests > 0 and .fleet.counters.sessions_stopped >= 1 and
  (.actions[] | select(.name == "Authorize") | .errors_by_code.InternalError > 0)' \
  "$T/report.json" >/dev/null || fail "report JSON: $(head -c 600 "$T/report.json")"

# ---- thresholds ---------------------------------------------------------------------------
cli report --run "$id" --threshold 'conf.StartTransaction.p95<500ms' --threshold 'conf.Heartbeat.errors==0' \
  --threshold 'call_timeouts<10' >"$T/pass.txt" || fail "passing thresholds: $(tail -5 "$T/pass.txt")"
grep -q "^passed  conf.StartTransaction.p95<500ms  (1[5-9][0-9].[0-9] ms)" "$T/pass.txt" ||
  fail "threshold line: $(grep p95 "$T/pass.txt")"
set +e
cli report --run "$id" --format json --threshold 'errors.rate<1%' --threshold 'conf.*.p99<100ms' \
  >"$T/fail.json" 2>"$T/fail.err"
rc=$?
cli report --run "$id" --threshold 'conf.Authorize.p95<5%' >/dev/null 2>"$T/bad.err"
rc_bad=$?
set -e
[ $rc = 1 ] || fail "failing thresholds exit $rc, want 1: $(cat "$T/fail.err")"
grep -q "^FAILED  errors.rate<1%  ([0-9.]*%)" "$T/fail.err" || fail "failed line: $(cat "$T/fail.err")"
grep -q "^FAILED  conf.\*.p99<100ms  ([A-Za-z]*: [0-9.]* ms)" "$T/fail.err" || fail "wildcard line: $(cat "$T/fail.err")"
jq -e '.passed == false and (.thresholds | length) == 2' "$T/fail.json" >/dev/null || fail "thresholds in JSON"
[ $rc_bad = 2 ] || fail "a malformed threshold exits $rc_bad, want 2"
grep -q "is a time" "$T/bad.err" || fail "malformed threshold message: $(cat "$T/bad.err")"

# ---- a time range ---------------------------------------------------------------------------
cli report --since -2m --format json >"$T/range.json" || fail "report --since"
jq -e '.aggregated.CALL.requests > 0 and (.history.t | length) >= 3' "$T/range.json" >/dev/null ||
  fail "range report: $(head -c 300 "$T/range.json")"

# ---- HTML in headless Chromium --------------------------------------------------------------
if command -v chromium >/dev/null && command -v node >/dev/null; then
  timeout 60 node "$(dirname "$0")/report_driver.js" "$T/report.html" "$T/chromium-profile" \
    "$T/report.png" >"$T/driver.txt" 2>"$T/driver.err" || fail "report page: $(cat "$T/driver.txt" "$T/driver.err")"
  cat "$T/driver.txt"
else
  log "chromium or node missing: the HTML page is not opened"
fi

# ---- run stop --abrupt: no StopTransaction first, the run marked aborted ----------------------
stops=$(grep -c '"StopTransaction"' "$T/csms.jsonl" || true)
aid=$(cli --json run start abrupt | jq -r .id)
cli start CP-000001 >/dev/null
wait_eval "a transaction open" 20 '[ "$(rcli HGET "$NS:stats" transactions)" -ge 1 ]'
cli run stop --abrupt >"$T/abrupt.txt" || fail "run stop --abrupt: $(cat "$T/abrupt.txt")"
grep -q "run $aid aborted" "$T/abrupt.txt" || fail "run stop --abrupt: $(cat "$T/abrupt.txt")"
[ "$(rcli HGET "$NS:run:$aid" state)" = aborted ] || fail "state $(rcli HGET "$NS:run:$aid" state)"
[ "$(rcli HGET "$NS:stats" transactions)" -ge 1 ] || fail "--abrupt ended the open transaction"
[ "$(grep -c '"StopTransaction"' "$T/csms.jsonl" || true)" = "$stops" ] || fail "--abrupt sent a StopTransaction"
cli report --run "$aid" --format json | jq -e '.run.state == "aborted"' >/dev/null || fail "report of the aborted run"

# ---- a run starts after every command logged before it, even within the same millisecond -----
# (a scenario's starting settings are logged just before its run opens: they are not the run's)
late=$(( $(date +%s%3N) + 3000 ))
rcli XADD "$NS:cmdlog" "$late-0" id setup cmd '{"cmd":"reload","key":"fleet"}' to '*' by test >/dev/null
lid=$(cli --json run start after-setup | jq -r .id)
ls=$(rcli HGET "$NS:run:$lid" started_ms)
[ "$ls" -gt "$late" ] || fail "run $lid started at $ls, not after the command logged at $late"
cli run stop >/dev/null || fail "run stop of $lid"

# ---- after everything but Redis stopped -----------------------------------------------------
for g in "${PGIDS[@]}"; do
  [ "$g" = "$REDIS_PGID" ] && continue
  kill -TERM -- "-$g" 2>/dev/null || true
done
for g in "${PGIDS[@]}"; do
  [ "$g" = "$REDIS_PGID" ] && continue
  wait_for "process group $g to stop" 15 group_gone "$g"
done
cli report --run "$id" --format csv >"$T/after.csv" || fail "report after every process stopped"
cmp -s "$T/after.csv" "$T/locust_stats.csv" || fail "the report changed after the processes stopped"
log "run $id: reports in every format, thresholds, a range, and the same report with only Redis left"
