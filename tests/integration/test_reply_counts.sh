#!/usr/bin/env bash
# Replies carry counts (text lines are only examples): chargers with nothing to do are skipped,
# not errors; real failures are counted however many there are; ping counts answers and what
# the workers hold; a command that matches nothing says so and exits 1. Replies stay valid UTF-8
# JSON whatever bytes a command carried.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 0
start_coordinator
start_agent a1 2 30
wait_for "2 workers registered" 20 sh -c "[ \"\$('$CS_BIN/swarm-cli' --json agents | jq length)\" = 2 ]"

# --- an empty fleet: nothing matched, and how to size it ----------------------------------------
set +e
cli trigger '*' Heartbeat >"$T/empty.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "trigger on an empty fleet exited $rc: $(cat "$T/empty.txt")"
grep -q "trigger: no charger matched '\*' (2 workers answered)" "$T/empty.txt" || fail "$(cat "$T/empty.txt")"
grep -q "the fleet is empty.*swarm-cli scale N" "$T/empty.txt" || fail "no sizing hint: $(cat "$T/empty.txt")"
set +e
cli cancel nosuch >"$T/cancel.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "cancel of an unknown id exited $rc"
grep -q "cancel: nothing scheduled under id 'nosuch'" "$T/cancel.txt" || fail "$(cat "$T/cancel.txt")"
log "empty fleet: trigger and cancel say nothing matched, exit 1"

cli scale 40 >/dev/null
wait_for "40 chargers connected" 30 connected_is 40

# --- skipped: nothing to do is not an error -----------------------------------------------------
out=$(cli --json online '*') || fail "online '*' on an online fleet failed: $out"
[ "$(echo "$out" | jq '[.matched, .done, .skipped, .failed, .errors]')" = "$(jq -n '[40,0,40,0,0]')" ] ||
  fail "online '*': $out"
cli clear '*' >"$T/clear.txt" || fail "clear '*' with nothing Faulted failed: $(cat "$T/clear.txt")"
grep -q "clear: 40 chargers on 2 workers, 0 done, 40 skipped (nothing to do), 0 errors" "$T/clear.txt" ||
  fail "clear: $(cat "$T/clear.txt")"
cli fault CP-000003 code=GroundFailure >/dev/null
out=$(cli --json clear 'CP-00000?') || fail "clear: $out"
[ "$(echo "$out" | jq '[.done, .skipped, .errors]')" = "$(jq -n '[1,8,0]')" ] || fail "clear 9: $out"
log "online/clear on chargers with nothing to do: skipped, exit 0"

# --- failed: counted, whatever the number of example lines ---------------------------------------
cli start '*' >/dev/null
set +e
out=$(cli --json start '*')
rc=$?
set -e
[ $rc -eq 1 ] || fail "start on busy connectors exited $rc"
[ "$(echo "$out" | jq '[.matched, .failed, .errors]')" = "$(jq -n '[40,40,40]')" ] || fail "start again: $out"
[ "$(echo "$out" | jq '[.replies[].errors | length] | max')" -le 10 ] || fail "more than 10 example lines: $out"
cli start '*' >"$T/start.txt" || true
grep -q "start: 40 chargers on 2 workers, 0 done, 40 errors" "$T/start.txt" || fail "$(cat "$T/start.txt")"
grep -q "40 errors in all" "$T/start.txt" || fail "no total of the error lines: $(cat "$T/start.txt")"
log "start on busy connectors: 40 failed, 40 errors (example lines: at most 10 per reply)"

# --- ping: answers, chargers held and connected -------------------------------------------------
out=$(cli --json ping) || fail "ping: $out"
[ "$(echo "$out" | jq '[.workers_replied, .matched, .connected, .errors]')" = "$(jq -n '[2,40,40,0]')" ] ||
  fail "ping: $out"
cli ping >"$T/ping.txt"
grep -q "ping: 2 workers answered, 40 chargers held, 40 connected" "$T/ping.txt" || fail "$(cat "$T/ping.txt")"

# --- a selector that matches nothing in a sized fleet -------------------------------------------
set +e
cli trigger 'CP-01*' Heartbeat >"$T/none.txt"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a selector matching nothing exited $rc"
grep -q "no charger matched 'CP-01\*'" "$T/none.txt" || fail "$(cat "$T/none.txt")"
grep -q "the fleet has 40 chargers, CP-000001..CP-000040" "$T/none.txt" || fail "$(cat "$T/none.txt")"
log "ping counts answers; a selector matching nothing exits 1 naming the fleet's IDs"

# --- hostile bytes: replies stay valid UTF-8 JSON ------------------------------------------------
redis_sub "$T/replies.txt" "$NS:reply"
rcli PUBLISH "$NS:cmd" "$(printf '@u1 trigger * Heart\xff\xfebeat\xc3')" >/dev/null
rcli PUBLISH "$NS:cmd" "$(printf '@u2 status CP-000001 Faulted info=\xe2\x82')" >/dev/null
rcli PUBLISH "$NS:cmd" '{"id":"u3","cmd":"status","select":"CP-000001","status":"Faulted","args":{"info":"a\u0000b"}}' >/dev/null
rcli PUBLISH "$NS:cmd" '@u4 trigger CP-000001..CP-000005..CP-000009 Heartbeat' >/dev/null
wait_eval "8 replies" 10 '[ "$(grep -c "\"id\":\"u[1-4]\"" "$T/replies.txt")" -ge 8 ]'
grep '"id":"u' "$T/replies.txt" >"$T/u.txt"
iconv -f UTF-8 -t UTF-8 "$T/u.txt" >/dev/null || fail "a reply is not valid UTF-8: $(cat -v "$T/u.txt")"
while read -r line; do
  echo "$line" | jq -e . >/dev/null || fail "not JSON: $line"
done <"$T/u.txt"
grep '"id":"u1"' "$T/u.txt" | grep -q 'unknown message' || fail "u1: $(grep u1 "$T/u.txt")"
grep '"id":"u3"' "$T/u.txt" | grep -q 'NUL' || fail "u3 (\\u0000) not refused: $(grep u3 "$T/u.txt")"
grep '"id":"u4"' "$T/u.txt" | grep -q "a range is A..B with one" || fail "u4: $(grep u4 "$T/u.txt")"
log "ok: counts, skipped vs failed, ping, nothing matched; hostile bytes, \\u0000 and A..B..C refused, replies valid UTF-8"
