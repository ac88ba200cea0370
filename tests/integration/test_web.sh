#!/usr/bin/env bash
# swarm-coordinator --http: the dashboard end to end in headless Chromium (driven over the
# DevTools pipe by web_driver.js): the page shows what `swarm-cli --json status` shows, a
# command typed into its form reaches the charger over MQTT and the page shows the summary,
# event text from Redis is shown as text, and a screenshot is saved ($T/dashboard.png; run
# with KEEP_TMP=1 to keep it). Also the HTTP edges: status codes, size limits, garbage.
for tool in chromium node curl; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP: $tool not installed (scripts/deps installs the chromium, nodejs and curl packages)"; exit 77; }
done
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 20
start_coordinator "" --http 127.0.0.1:0 --metrics-listen 127.0.0.1:0
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
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big.txt"
c=$(code -H 'Content-Type: application/json' --data-binary @"$T/big.txt" "$BASE/api/command")
[ "$c" = 413 ] || fail "70 KB body: $c, want 413"
[ "$(code "$BASE/api/status?history=abc")" = 400 ] || fail "bad history parameter: not 400"
printf 'GARBAGE \x01\x02\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT; cat >&3; cat <&3" >/dev/null 2>&1 || true
[ "$(code "$BASE/metrics")" = 200 ] || fail "/metrics on the dashboard listener"
api -D - -o /dev/null "$BASE/" | grep -qi "^content-security-policy: default-src 'none'" || fail "no CSP on the page"
log "HTTP edges ok (404, 405, 415, 403, 400, 413, garbage survived)"

# ---- a command over the API, mirrored in {ns}:cmdlog ----
r=$(post_cmd '{"line":"ping"}')
echo "$r" | jq -e '.cmd == "ping" and .workers_expected == 2 and .workers_replied == 2 and .ok == true
  and (.log | test("^[0-9]+-[0-9]+$")) and (.id | startswith("web-"))' >/dev/null || fail "ping: $r"
id=$(echo "$r" | jq -r .id)
rcli XREVRANGE "$NS:cmdlog" + - COUNT 5 | grep -q "\"id\":\"$id\"" || fail "ping $id not in $NS:cmdlog"

# Hostile replies on {ns}:reply are tallied safely: the same id again is not run twice by the
# workers (they remember it), so only the two forged replies answer it.
post_cmd '{"line":"@hostile ping"}' >/dev/null
post_cmd '{"line":"@hostile ping"}' >"$T/hostile.json" &
PIDS+=("$!")
wait_eval "the second @hostile ping waiting" 5 '[ "$(grep -c "web command hostile: ping" "$T/coordinator.log")" -ge 2 ]'
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
t0=$(now_ms)
timeout 60 node "$(dirname "$0")/web_driver.js" "$BASE/" "$T/chromium-profile" "$T/dashboard.png" \
  "$1" "$2" 'trigger CP-000003 DataTransfer messageId=from-web' >"$T/driver.jsonl" 2>"$T/driver.log" ||
  fail "web driver: $(tail -20 "$T/driver.log")"
log "browser session took $(( $(now_ms) - t0 )) ms"
step() { grep "\"step\":\"$1\"" "$T/driver.jsonl"; }
step status | jq -e --argjson c "$1" --argjson n "$2" '.connected == $c and .chargers == $n and .rows == 2 and .role == "leader"' >/dev/null ||
  fail "page status: $(step status) (swarm-cli: connected $1, chargers $2)"
step command | jq -e '.state == "ok" and .summary == "trigger: 1 charger on 1 worker, 1 done, 0 errors"' >/dev/null ||
  fail "page command: $(step command)"
wait_for "CP-000003's DataTransfer from the page" 10 grep -q 'chargers/CP-000003/up/DataTransfer .*from-web' "$T/dt.txt"
step events | jq -e '.joined and .injected == 0 and (.fired | not) and (.probe | contains("<img src=x"))' >/dev/null ||
  fail "events list: $(step events)"
[ -s "$T/dashboard.png" ] && [ "$(head -c 8 "$T/dashboard.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "no PNG screenshot"
log "page: $(step status | jq -c '{connected, chargers, rows}'), command: $(step command | jq -r .summary)"
log "ok: screenshot $T/dashboard.png ($(stat -c %s "$T/dashboard.png") bytes)"
