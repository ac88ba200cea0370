#!/usr/bin/env bash
# swarm-coordinator --http on loopback without credentials: the dashboard end to end in
# headless Chromium (driven over the DevTools pipe by web_driver.js): the page shows what
# `swarm-cli --json status` shows, a command typed into its form reaches the charger over MQTT
# and the page shows the summary, the commands panel names who sent it (web:anonymous, from
# {ns}:cmdlog's `by`), event text from Redis is shown as text, the latency cards are not cut
# at any width, an empty latency window shows "–" (not 0.0), the CSP blocks nothing of the
# page's own; a screenshot is saved ($T/dashboard.png; run with KEEP_TMP=1 to keep it). Also
# the HTTP edges: status codes, size limits, garbage; what the command line accepts; and the
# events of before a coordinator restart still on the page after it ({ns}:eventlog).
# test_web_access.sh does the same with credentials, roles and TLS.
for tool in chromium node curl; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP: $tool not installed (scripts/deps installs the chromium, nodejs and curl packages)"; exit 77; }
done
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 20 stats_window_s 2
start_coordinator "" --http 127.0.0.1:0 --metrics-listen 127.0.0.1:0
COORD_PGID=$LAST_PGID
start_agent a1 2 20
wait_for "the dashboard listener" 10 grep -q "dashboard on http://" "$T/coordinator.log"
HPORT=$(sed -n 's|.*dashboard on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/coordinator.log" | sed -n 1p)
[ -n "$HPORT" ] || fail "no dashboard port in the coordinator's log"
grep -q "metrics on http://127.0.0.1:" "$T/coordinator.log" && fail "same address for both: one listener expected"
BASE="http://127.0.0.1:$HPORT"
log "dashboard on $BASE"
wait_for "20 chargers connected" 30 connected_is 20

api() { curl -s --max-time 10 "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
post_cmd() { api -H 'Content-Type: application/json' --data-binary "$1" "$BASE/api/command"; }

# ---- /api/status carries swarm-cli's numbers ----
same_as_cli() {
  local a b
  a=$(api "$BASE/api/status" | jq -c '.fleet | {connected, chargers, workers, size, capacity, unassigned}')
  b=$(cli --json status | jq -c '.fleet | {connected, chargers, workers, size, capacity, unassigned}')
  [ -n "$a" ] && [ "$a" = "$b" ]
}
wait_for "/api/status to agree with swarm-cli --json status" 10 same_as_cli
api "$BASE/api/status" | jq -e '(.workers | length) == 2 and .coordinator.leader == true and
  (.workers | map(.name) | sort) == ["a1.w0", "a1.w1"] and (.history.t | length) >= 1' >/dev/null ||
  fail "/api/status: $(api "$BASE/api/status" | head -c 600)"
# A window with no sample has no percentiles: null (the page shows "–"), not 0. No command
# has run for 2 s (the window); the workers' stats are there (acks since start).
cmd_window_empty() { api "$BASE/api/status" | jq -e '.fleet.cmd_win_p50_ms == null and .fleet.cmd_win_p99_ms == null and
  .history.cmd_win_p50_ms[-1] == null and .fleet.workers == 2 and .fleet.ack_p50_ms != null' >/dev/null; }
wait_for "an empty command latency window shown as null" 15 cmd_window_empty

# ---- the HTTP edges ----
[ "$(code "$BASE/nope")" = 404 ] || fail "unknown path: not 404"
[ "$(code -X POST "$BASE/api/status")" = 405 ] || fail "POST /api/status: not 405"
[ "$(code -X DELETE "$BASE/api/command")" = 405 ] || fail "DELETE /api/command: not 405"
[ "$(code "$BASE/api/command")" = 405 ] || fail "GET /api/command: not 405"
[ "$(code -H 'Content-Type: text/plain' --data-binary 'ping' "$BASE/api/command")" = 415 ] || fail "text/plain command: not 415"
[ "$(code -H 'Content-Type: application/json' -H 'Origin: http://evil.example' --data-binary '{"line":"ping"}' "$BASE/api/command")" = 403 ] ||
  fail "cross-origin command: not 403"
[ "$(code -H 'Content-Type: application/json' --data-binary 'garbage{' "$BASE/api/command")" = 400 ] || fail "garbage body: not 400"
[ "$(code -H 'Content-Type: application/json' --data-binary '{"line":"trigger CP-000009..CP-000001 Heartbeat"}' "$BASE/api/command")" = 400 ] || fail "bad selector: not 400"
[ "$(code -H 'Content-Type: application/json' --data-binary '{"line":"assign epoch=9 ranges=1-5"}' "$BASE/api/command")" = 400 ] || fail "internal verb: not 400"
# swarm-cli's own subcommands are not fleet commands: the refusal says what the line takes.
r=$(post_cmd '{"line":"config set heartbeat_s=30"}')
echo "$r" | jq -e '.error | contains("'"'"'config'"'"' is not a fleet command") and contains("trigger, start,") and contains("run in swarm-cli")' >/dev/null ||
  fail "config set on the command line: $r"
[ "$(code -H 'Content-Type: application/json' --data-binary '{"line":"scale 50"}' "$BASE/api/command")" = 400 ] || fail "scale: not 400"
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big.txt"
c=$(code -H 'Content-Type: application/json' --data-binary @"$T/big.txt" "$BASE/api/command")
[ "$c" = 413 ] || fail "70 KB body: $c, want 413"
[ "$(code "$BASE/api/status?history=abc")" = 400 ] || fail "bad history parameter: not 400"
printf 'GARBAGE \x01\x02\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT; cat >&3; cat <&3" >/dev/null 2>&1 || true
[ "$(code "$BASE/metrics")" = 200 ] || fail "/metrics on the dashboard listener"
api -D "$T/h.txt" -o /dev/null "$BASE/"
grep -qi "^content-security-policy: default-src 'none'; script-src 'sha256-" "$T/h.txt" || fail "no CSP pinning the page's script"
# Without credentials, only names it knows: a page elsewhere cannot reach it through a DNS name
# of its own that points here.
[ "$(code -H "Host: evil.example:$HPORT" "$BASE/api/status")" = 403 ] || fail "an unknown Host: not 403"
[ "$(code -H "Host: localhost:$HPORT" "$BASE/api/status")" = 200 ] || fail "Host localhost: not 200"
log "HTTP edges ok (404, 405, 415, 403, 400, 413, garbage survived, unknown Host)"

# ---- a command over the API, mirrored in {ns}:cmdlog ----
r=$(post_cmd '{"line":"ping"}')
echo "$r" | jq -e '.cmd == "ping" and .workers_expected == 2 and .workers_replied == 2 and .ok == true
  and (.log | test("^[0-9]+-[0-9]+$")) and (.id | startswith("web-"))' >/dev/null || fail "ping: $r"
id=$(echo "$r" | jq -r .id)
echo "$r" | jq -e '.by == "web:anonymous" and .to == "*"' >/dev/null || fail "ping: by/to: $r"
entry=$(rcli --raw XREVRANGE "$NS:cmdlog" + - COUNT 1 | tr '\n' ' ')
case "$entry" in *"\"id\":\"$id\""*" by web:anonymous"*) ;; *) fail "ping $id not in $NS:cmdlog with its sender: $entry" ;; esac
# An ID selector goes to its owner only, as swarm-cli routes it.
r=$(post_cmd '{"line":"trigger CP-000003 Heartbeat"}')
echo "$r" | jq -e '.to == "a1.w0" and .workers_expected == 1 and .done == 1' >/dev/null || fail "routed trigger: $r"

# Hostile replies on {ns}:reply are tallied safely: the same id again is not run twice by the
# workers (they remember it), so only the two forged replies answer it.
post_cmd '{"line":"@hostile ping"}' >/dev/null
post_cmd '{"line":"@hostile ping"}' >"$T/hostile.json" &
PIDS+=("$!")
wait_eval "the second @hostile ping waiting" 5 '[ "$(grep -c "web command hostile by web:anonymous from 127.0.0.1: ping" "$T/coordinator.log")" -ge 2 ]'
for r in '{"id":"hostile","worker":"<b>w</b>","matched":1e308,"done":-5,"errors":["<img src=x onerror=alert(1)>",7]}' \
  '{"id":"hostile","matched":"NaN","errors":{}}'; do
  rcli PUBLISH "$NS:reply" "$r" >/dev/null
done
wait_for "the answer to the forged replies" 5 jq -e .summary "$T/hostile.json"
jq -e '.workers_replied == 2 and .matched == 0 and .done == 0 and .errors == 1 and
  .error_lines == ["<b>w</b>: <img src=x onerror=alert(1)>"]' "$T/hostile.json" >/dev/null ||
  fail "forged replies: $(cat "$T/hostile.json")"

# ---- the page in Chromium ----
rcli PUBLISH "$NS:events" '{"ts":1,"type":"xss-probe <img src=x onerror=\"window.__xss=1\">","worker":"<b>bold</b><script>window.__xss=1</script>"}' >/dev/null
mqtt_sub 'chargers/CP-000003/up/DataTransfer' "$T/dt.txt"
want=$(cli --json status | jq -r '.fleet | "\(.connected) \(.chargers)"')
set -- $want
# The commands above reach the window (stats are read once a second), then leave it.
wait_eval "the commands in the latency window" 10 '[ "$(api "$BASE/api/status" | jq .fleet.cmd_win_p50_ms)" != null ]'
wait_for "the command latency window empty again" 15 cmd_window_empty
t0=$(now_ms)
timeout 60 node "$(dirname "$0")/web_driver.js" "$BASE/" "$T/chromium-profile" "$T/dashboard.png" \
  "$1" "$2" 'trigger CP-000003 DataTransfer messageId=from-web' >"$T/driver.jsonl" 2>"$T/driver.log" ||
  fail "web driver: $(tail -20 "$T/driver.log")"
log "browser session took $(( $(now_ms) - t0 )) ms"
step() { grep "\"step\":\"$1\"" "$T/driver.jsonl"; }
step status | jq -e --argjson c "$1" --argjson n "$2" '.connected == $c and .chargers == $n and .rows == 2 and .role == "leader"' >/dev/null ||
  fail "page status: $(step status) (swarm-cli: connected $1, chargers $2)"
step status | jq -e '.lat_cmd == "–"' >/dev/null || fail "an empty window on the page: $(step status)"
step command | jq -e '.state == "ok" and .summary == "trigger: 1 charger on 1 worker, 1 done, 0 errors"' >/dev/null ||
  fail "page command: $(step command)"
wait_for "CP-000003's DataTransfer from the page" 10 grep -q 'chargers/CP-000003/up/DataTransfer .*from-web' "$T/dt.txt"
step events | jq -e '.joined and .injected == 0 and (.fired | not) and (.probe | contains("<img src=x"))' >/dev/null ||
  fail "events list: $(step events)"
step commands | jq -e '.ok' >/dev/null || fail "commands panel: $(step commands)"
step cards | jq -e '.ok' >/dev/null || fail "latency cards cut: $(step cards | jq -c '[.cards[] | select(.cut | length > 0)]')"
step csp | jq -e '(.violations | length) == 0 and (.cookie_visible | not)' >/dev/null || fail "CSP or cookie: $(step csp)"
[ -s "$T/dashboard.png" ] && [ "$(head -c 8 "$T/dashboard.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "no PNG screenshot"
log "page: $(step status | jq -c '{connected, chargers, rows}'), command: $(step command | jq -r .summary)"

# ---- a restarted coordinator shows the events of before ({ns}:eventlog) ----
kill -TERM -- "-$COORD_PGID"
wait_for "the coordinator to stop" 10 group_gone "$COORD_PGID"
[ "$(rcli XLEN "$NS:eventlog")" -ge 4 ] || fail "$NS:eventlog holds $(rcli XLEN "$NS:eventlog") events"
start_coordinator 2 --http 127.0.0.1:0
wait_for "the new dashboard listener" 10 grep -q "dashboard on http://" "$T/coordinator2.log"
BASE2="http://127.0.0.1:$(sed -n 's|.*dashboard on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/coordinator2.log" | sed -n 1p)"
history_back() { api "$BASE2/api/events" | jq -e '[.events[].event | objects | .type] as $t |
  ($t | index("worker_joined")) != null and ($t | any(startswith("xss-probe"))) and
  ($t | index("coordinator_leader")) != null' >/dev/null; }
wait_for "the events of before the restart on the new coordinator's page" 10 history_back
api "$BASE2/api/events" | jq -e '[.events[].ms] as $m | $m == ($m | sort)' >/dev/null || fail "events out of order"

# ---- --http-read-only: the page reads, nobody sends ----
start_coordinator 3 --http 127.0.0.1:0 --http-read-only
wait_for "the read-only listener" 10 grep -q "dashboard on http://" "$T/coordinator3.log"
BASE3="http://127.0.0.1:$(sed -n 's|.*dashboard on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/coordinator3.log" | sed -n 1p)"
api "$BASE3/api/session" | jq -e '.commands == false and .read_only == true and .auth == false' >/dev/null ||
  fail "read-only session: $(api "$BASE3/api/session")"
[ "$(code -H 'Content-Type: application/json' --data-binary '{"line":"ping"}' "$BASE3/api/command")" = 403 ] ||
  fail "a command on a read-only coordinator: not 403"
log "ok: $(api "$BASE2/api/events" | jq '.events | length') events after the restart; screenshot $T/dashboard.png ($(stat -c %s "$T/dashboard.png") bytes)"
