#!/usr/bin/env bash
# Per-action statistics against a platform stand-in with a known delay and error rate per
# action: the workers' conf.<Action>.* fields and the fleet's merge of them match what
# fake-csms did (CALLs, CALLERRORs by code counted from its own log; medians within the
# histogram's resolution); the platform's CALLs appear as down.<Action>.*; the per-action
# fields stay out of the {ns}:ts streams; swarm-cli status and the coordinator's page (its
# JSON, and the page in headless Chromium) show the table by action and the charger states.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
# Every answer takes at least 80 ms: a CALL queued behind another waits in the charger until
# paho reports the previous publish complete, and an answer faster than that would add that
# wait to the next CALL's response time (see docs/results.md, "What the response time
# includes").
start_csms --delay-ms 80 --action-delay StartTransaction=200,Authorize=100 \
  --action-error Authorize=0.3:InternalError,StatusNotification=0.2:GenericError --seed 7
setup_fleet 20 stats_interval_ms 500
# QoS 0: a charger that acknowledged an answer (PUBACK) and sends its next CALL at once would
# have that CALL held back by Nagle's algorithm on its socket until the broker's delayed ACK,
# ~40 ms counted as the platform's latency (fake-csms turns it off on its own socket).
rcli HSET "$NS:cfg" heartbeat_s 3 qos 0 >/dev/null
start_coordinator "" --http 127.0.0.1:0
start_agent a1 2 10
wait_for "20 chargers connected" 30 connected_is 20

fleet() { rcli HGET "$NS:stats" "$1"; }
num() { local v; v=$(fleet "$1"); echo "${v:-0}"; }

# Sessions: Authorize (100 ms, 30% InternalError), StartTransaction (200 ms).
cli start '*' kw=11 >/dev/null || true
wait_eval "20 Authorize answered in the fleet's figures" 20 \
  '[ $(( $(num conf.Authorize.answered) + $(num conf.Authorize.errors) )) -ge 20 ]'
wait_eval "StartTransactions answered" 20 '[ "$(num conf.StartTransaction.answered)" -ge 5 ]'

# The platform's CALLs: two known actions, one malformed and one the chargers do not implement.
down CP-000001 '[2,"r1","Reset",{"type":"Soft"}]'
down CP-000002 '[2,"t1","TriggerMessage",{"requestedMessage":"Heartbeat"}]'
down CP-000003 '[2,"x1","ReserveNow",{"connectorId":1,"idTag":"A","reservationId":1}]'   # no expiryDate
down CP-000004 '[2,"x2","Bogus.Name",{}]'
wait_eval "the platform's CALLs counted" 15 \
  '[ "$(num down.Reset.answered)" = 1 ] && [ "$(num down.TriggerMessage.answered)" = 1 ] &&
   [ "$(num down.ReserveNow.err.OccurenceConstraintViolation)" = 1 ] && [ "$(num down.other.err.NotImplemented)" = 1 ]'

# Let the traffic settle (no more sessions), then compare with what fake-csms did.
cli pause '*' >/dev/null
log "waiting for the counts to settle"
settled() {
  local a b
  a=$(rcli HMGET "$NS:stats" conf.Authorize.calls conf.StatusNotification.calls conf.StartTransaction.calls | tr '\n' ' ')
  window_until $(( $(now_ms) + 1500 ))
  b=$(rcli HMGET "$NS:stats" conf.Authorize.calls conf.StatusNotification.calls conf.StartTransaction.calls | tr '\n' ' ')
  [ "$a" = "$b" ]
}
wait_for "per-action counts to stop moving" 30 settled

# fake-csms's log: CALLs in, answers out, by uid.
python3 - "$T/csms.jsonl" >"$T/csms-counts.txt" <<'EOF'
import json, sys, collections
action = {}
calls = collections.Counter(); errs = collections.Counter(); results = collections.Counter()
for line in open(sys.argv[1]):
    m = json.loads(line)
    f = m.get("frame")
    if not isinstance(f, list) or len(f) < 3:
        continue
    if m["dir"] == "in" and f[0] == 2:
        action[f[1]] = f[2]; calls[f[2]] += 1
    elif m["dir"] == "out" and f[0] == 4 and f[1] in action:
        errs[(action[f[1]], f[2])] += 1
    elif m["dir"] == "out" and f[0] == 3 and f[1] in action:
        results[action[f[1]]] += 1
for a, n in sorted(calls.items()):
    print("calls", a, n)
for (a, c), n in sorted(errs.items()):
    print("err", a, c, n)
for a, n in sorted(results.items()):
    print("result", a, n)
EOF
cat "$T/csms-counts.txt"
csms() { awk -v k="$1" -v a="$2" -v c="${3:-}" '$1 == k && $2 == a && (c == "" || $3 == c) { print $NF }' "$T/csms-counts.txt"; }

for a in Authorize StatusNotification StartTransaction BootNotification; do
  want=$(csms calls "$a")
  got=$(num "conf.$a.calls")
  [ "$got" = "$want" ] || fail "conf.$a.calls $got, fake-csms received $want"
  res=$(csms result "$a"); res=${res:-0}
  [ "$(num "conf.$a.answered")" = "$res" ] || fail "conf.$a.answered $(num "conf.$a.answered"), fake-csms sent $res CALLRESULTs"
done
ae=$(csms err Authorize InternalError)
se=$(csms err StatusNotification GenericError)
[ "${ae:-0}" -gt 0 ] && [ "${se:-0}" -gt 0 ] || fail "fake-csms injected no errors (Authorize $ae, StatusNotification $se)"
[ "$(num conf.Authorize.err.InternalError)" = "$ae" ] || fail "conf.Authorize.err.InternalError $(num conf.Authorize.err.InternalError), fake-csms sent $ae"
[ "$(num conf.Authorize.errors)" = "$ae" ] || fail "conf.Authorize.errors $(num conf.Authorize.errors), want $ae"
[ "$(num conf.StatusNotification.err.GenericError)" = "$se" ] || fail "conf.StatusNotification.err.GenericError $(num conf.StatusNotification.err.GenericError), fake-csms sent $se"
log "Authorize: $(num conf.Authorize.calls) CALLs, $ae InternalError; StatusNotification: $se GenericError"

# Medians: what fake-csms waited, within the histogram's ~19% buckets (bucket upper bounds,
# plus the broker round trip).
within() { # FIELD LOW HIGH
  awk -v v="$(fleet "$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
    fail "$1 = $(fleet "$1"), not in [$2, $3]"
  log "$1 = $(fleet "$1") ms"
}
for f in Heartbeat BootNotification StatusNotification Authorize StartTransaction; do log "$f p50 $(fleet conf.$f.p50_ms) p99 $(fleet conf.$f.p99_ms) max $(fleet conf.$f.max_ms) hist $(fleet conf.$f.hist)"; done
within conf.StartTransaction.p50_ms 200 245
within conf.Authorize.p50_ms 100 125
within conf.StatusNotification.p50_ms 80 100
within conf.BootNotification.p50_ms 80 100
within conf.StartTransaction.max_ms 200 300

# The fleet's figures are the sum of the workers'.
for f in conf.Authorize.calls conf.StatusNotification.errors down.Reset.calls; do
  sum=0
  for w in $(rcli ZRANGE "$NS:agents" 0 -1); do
    v=$(rcli HGET "$NS:stats:$w" "$f"); sum=$((sum + ${v:-0}))
  done
  [ "$sum" = "$(num "$f")" ] || fail "$f: workers sum to $sum, the fleet says $(num "$f")"
done
# Our time to answer the platform: short, and present.
[ "$(num down.Reset.hist | tr -d '\n' | wc -c)" -gt 0 ] || true
within down.Reset.max_ms 0 50

# Windows: the figures of the last stats_window_s; after a quiet window they are 0.
rcli HSET "$NS:fleet" stats_window_s 2 >/dev/null
wait_eval "the window empties" 15 '[ "$(num conf.StartTransaction.win_calls)" = 0 ]'
[ "$(num conf.StartTransaction.calls)" -gt 0 ] || fail "since-start figures lost"

# Not in the streams: Grafana and readers of {ns}:ts get the scalars only.
for k in "$NS:ts" "$NS:ts:a1.w0"; do
  n=$(rcli XREVRANGE "$k" + - COUNT 1 | grep -c -E '^(conf|down)\.' || true)
  [ "$n" = 0 ] || fail "$k carries per-action fields"
done
# ---- the views ------------------------------------------------------------------------------
cli status >"$T/status.txt" || fail "status"
grep -q '^states +charging [0-9]+ +faulted 0 +open transactions [0-9]+ +offline 0' -E "$T/status.txt" ||
  fail "status: no states line: $(cat "$T/status.txt")"
grep -q -E '^CALL Authorize +[0-9.]+ +[0-9.]+ +[-0-9.]+ +[-0-9.]+ +[-0-9.]+ +[0-9]+ +[0-9]+ +[0-9.]+$' "$T/status.txt" ||
  fail "status: no Authorize row: $(cat "$T/status.txt")"
cli --json status | jq -e --arg e "$ae" '.fleet.states.transactions >= 1 and
  (.fleet.actions[] | select(.type == "CALL" and .name == "Authorize") | .failures == ($e | tonumber)) and
  (.fleet.actions[] | select(.type == "DOWN" and .name == "Reset") | .requests == 1)' >/dev/null ||
  fail "status --json: $(cli --json status | jq -c .fleet.actions)"
HPORT=$(sed -n 's|.*dashboard on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/coordinator.log" | sed -n 1p)
[ -n "$HPORT" ] || fail "no dashboard port in the coordinator's log"
curl -sf "http://127.0.0.1:$HPORT/api/status" >"$T/api.json" || fail "GET /api/status"
jq -e --arg e "$ae" '.states.transactions >= 1 and
  (.actions[] | select(.type == "CALL" and .name == "Authorize") | .failures == ($e | tonumber) and
   .errors_by_code.InternalError == ($e | tonumber))' "$T/api.json" >/dev/null ||
  fail "/api/status: $(jq -c '{states, actions}' "$T/api.json")"
if command -v chromium >/dev/null && command -v node >/dev/null; then
  timeout 60 node "$(dirname "$0")/page_check.js" "http://127.0.0.1:$HPORT/" "$T/chromium-profile" \
    "$T/dashboard.png" "(() => {
      const row = document.querySelector('#actions tr[data-action=\"CALL Authorize\"]');
      const cells = row ? [...row.children].map((td) => td.textContent) : [];
      return { ok: !!row && cells[8] === '$ae' && /InternalError $ae/.test(cells[9]) &&
                   document.getElementById('state-transactions').textContent !== '–',
               cells, transactions: document.getElementById('state-transactions').textContent };
    })()" >"$T/page.txt" 2>&1 || fail "the dashboard's table by action: $(cat "$T/page.txt")"
  log "dashboard: $(cat "$T/page.txt")"
fi
log "per-action statistics match the platform stand-in"
