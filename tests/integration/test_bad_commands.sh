#!/usr/bin/env bash
# (e) Malformed commands get error replies naming the problem; the agents keep serving and
# answer the next good command.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 10
start_coordinator
start_agent a1 2 10
wait_for "10 chargers connected" 30 connected_is 10
redis_sub "$T/replies.txt" "$NS:reply"

# payload | text the error must contain
cases=(
  'garbage here|unknown verb'
  '@c2 trigger|missing selector'
  '@c3 trigger CP-000001|missing msg'
  '@c4 trigger CP-000001 Heartbeat oops|expected key=value'
  '@c5 status CP-000001 Sleeping|unknown status'
  '@c6 trigger CP-0000$$1 Heartbeat|not allowed'
  '@c7 trigger CP-000009..CP-000001 Heartbeat|before its start'
  '@c8 trigger CP-000001 NoSuchMessage|unknown message'
  '@c9 pause * connector=1|unknown argument'
  '@c10 trigger "CP-000001 Heartbeat|unterminated quote'
  '{"id":"c11","cmd":"trigger"|invalid JSON'
  '{"id":"c12","cmd":"trigger","select":"*","msg":"Heartbeat","args":[1]}|must be an object'
  '{"id":"c13","cmd":"fly","select":"*"}|unknown verb'
  '[1,2,3]|must be an object'
  '@c15 reload nosuchkey|unknown key'
  '@c17 status CP-000001 Faulted info=123456789012345678901234567890123456789012345678901|info is at most 50'
  '@c18 fault CP-000001 info=123456789012345678901234567890123456789012345678901|info is at most 50'
)
for c in "${cases[@]}"; do
  rcli PUBLISH "$NS:cmd" "${c%%|*}" >/dev/null
done
# Oversized: 70 KB of payload.
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
rcli PUBLISH "$NS:cmd" "@c16 trigger * Heartbeat note=$big" >/dev/null

expected=$(( (${#cases[@]} + 1) * 2 ))
wait_eval "$expected error replies (2 workers x $(( ${#cases[@]} + 1 )) commands)" 10 \
  '[ "$(grep -c "\"errors\":\\[\"" "$T/replies.txt")" -ge "$expected" ]'
for c in "${cases[@]}"; do
  want=${c#*|}
  grep -q "\"errors\":\[\"[^]]*$want" "$T/replies.txt" || fail "no error reply containing '$want' for: ${c%%|*}"
done
grep -q 'exceeds the 65536-byte cap' "$T/replies.txt" || fail "oversized command not refused"
# Replies carry the command id when it could be read.
grep -q '"id":"c7"' "$T/replies.txt" || fail "error reply lost the command id"

# Still serving: a good command gets clean replies from both workers, all chargers acted.
out=$(cli --json ping)
[ "$(echo "$out" | jq '.workers_replied')" = 2 ] || fail "ping: $out"
[ "$(echo "$out" | jq '.errors')" = 0 ] || fail "ping reported errors: $out"
[ "$(echo "$out" | jq '.matched')" = 10 ] || fail "ping matched: $out"
pgrep -f "swarm-agent --name a1" >/dev/null || fail "the agent died"
# And the chargers are untouched: still 10 connected, nothing changed status.
connected_is 10 || fail "chargers disconnected"
log "ok: ${#cases[@]} malformed commands + 1 oversized -> error replies naming the problem; agents still serve"
