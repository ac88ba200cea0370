#!/usr/bin/env bash
# Chargers on a bare broker where nobody answers: sessions keep reporting (unanswered CALLs
# time out and are counted), transaction messages queue while offline and go out in order on
# return, strict status changes, the json profile, user-defined messages, automatic sessions;
# every message schema-valid.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
mqtt_sub 'chargers/#' "$T/all.txt"
setup_fleet 4 seed 7
rcli HSET "$NS:cfg" meter_s 1 call_timeout_s 2 >/dev/null
rcli HSET "$NS:charger:CP-000002" boot_on_reconnect 0 >/dev/null
rcli HSET "$NS:charger:CP-000004" profile json >/dev/null
start_coordinator
start_agent a1 1 4
wait_for "4 chargers connected" 30 connected_is 4
count() { mqtt_lines "$T/all.txt" | awk -v t="$1" '$2 == t' | grep -c -F -- "${2:-}" || true; }

# --- reporting never stalls without answers -------------------------------------------
cli start CP-000001 kw=7 >/dev/null
metered() { [ "$(count chargers/CP-000001/up/MeterValues '"transactionId":-1')" -ge 4 ]; }
wait_for "MeterValues of the local transaction keep coming" 15 metered
timeouts() { [ "$(rcli HGET "$NS:stats:a1.w0" call_timeouts)" -gt 0 ]; }
wait_for "unanswered CALLs counted as timeouts" 10 timeouts

# --- offline: transaction messages queue and go out in order ----------------------------
cli offline CP-000001 >/dev/null
t_off=$(now_ms)
is_offline() { [ "$(rcli HGET "$NS:state:CP-000001" link)" = offline ]; }
wait_for "CP-000001 offline" 5 is_offline
window_until $((t_off + 3000))
cli stop CP-000001 >/dev/null   # StopTransaction and Finishing while offline
# The outage ends when the command is given: the charger may be back (and report its status)
# before swarm-cli has its reply.
t_on=$(now_ms)
cli online CP-000001 >/dev/null
wait_for "the queued StopTransaction after the return" 15 has_frame "$T/all.txt" chargers/CP-000001/up/StopTransaction '"reason":"Local"'
# Messages made during the outage: sent after t_on, in the order they were made.
iso_ms() { date -d "$1" +%s%3N; }
made_in_outage=$(mqtt_lines "$T/all.txt" | awk -v off="$t_off" -v on="$t_on" '$1 * 1000 > on && $2 ~ /^chargers\/CP-000001\/up\//' |
  cut -d' ' -f3- | jq -r 'select(.[2] == "MeterValues" or .[2] == "StopTransaction" or .[2] == "StatusNotification") |
    [.[2], (.[3].timestamp // .[3].meterValue[0].timestamp)] | @tsv')
queued=0 last=0
while IFS=$'\t' read -r action ts; do
  [ -n "$action" ] || continue
  ms=$(iso_ms "$ts")
  if [ "$ms" -lt "$t_on" ] && [ "$ms" -gt "$t_off" ]; then
    [ "$action" != StatusNotification ] || fail "a StatusNotification from the outage was kept"
    [ "$ms" -ge "$last" ] || fail "queued messages out of order ($ts after $last)"
    last=$ms
    queued=$((queued + 1))
  fi
done <<<"$made_in_outage"
[ "$queued" -ge 3 ] || fail "only $queued transaction messages from the 3 s outage were delivered"
log "offline 3 s: $queued queued transaction messages delivered in order after the return"
[ "$(count chargers/CP-000001/up/BootNotification)" -ge 2 ] || fail "no BootNotification after the return (boot_on_reconnect=1)"

# boot_on_reconnect=0: back by itself after seconds=1, without a BootNotification.
cli offline CP-000002 seconds=1 >/dev/null
back2() { [ "$(rcli HGET "$NS:state:CP-000002" link)" = up ]; }
wait_for "CP-000002 offline" 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT HGET $NS:state:CP-000002 link)\" != up ]"
wait_for "CP-000002 back by itself" 15 back2
[ "$(count chargers/CP-000002/up/BootNotification)" -eq 1 ] || fail "CP-000002 booted again with boot_on_reconnect=0"

# --- strict status changes ----------------------------------------------------------------
if cli status CP-000003 Finishing >"$T/strict.txt" 2>&1; then fail "strict accepted Available -> Finishing"; fi
grep -q "cannot go from Available to Finishing" "$T/strict.txt" || fail "strict error does not name the transition: $(cat "$T/strict.txt")"
cli config set --charger CP-000003 strict=0 >/dev/null
cli status CP-000003 Finishing >/dev/null || fail "strict=0 did not allow a deliberate violation"
wait_for "the deliberate Finishing" 5 has_frame "$T/all.txt" chargers/CP-000003/up/StatusNotification '"Finishing"'
cli status CP-000003 Available >/dev/null

# --- the json profile ------------------------------------------------------------------------
wait_for "a json-profile BootNotification" 10 has_frame "$T/all.txt" chargers/CP-000004/up/BootNotification '"type":"BootNotification"'
frame_of "$T/all.txt" chargers/CP-000004/up/BootNotification | jq -e '(.id | type == "string") and (.ts | test("Z$")) and .type == "BootNotification" and .data.chargePointVendor == "Chargeswarm"' >/dev/null ||
  fail "bad json envelope: $(frame_of "$T/all.txt" chargers/CP-000004/up/BootNotification)"
down CP-000004 '{"id":"j1","type":"GetConfiguration","data":{"key":["HeartbeatInterval"]}}'
wait_for "json GetConfiguration answer" 5 has_frame "$T/all.txt" chargers/CP-000004/up/GetConfigurationResponse '"j1"'
frame_of "$T/all.txt" chargers/CP-000004/up/GetConfigurationResponse | jq -e '.id == "j1" and .type == "GetConfigurationResponse" and .data.configurationKey[0].key == "HeartbeatInterval"' >/dev/null ||
  fail "bad json answer"
down CP-000004 '{"id":"j2","method":"Frobnicate","params":{}}'
wait_for "json error answer" 5 has_frame "$T/all.txt" chargers/CP-000004/up/FrobnicateResponse '"j2"'
frame_of "$T/all.txt" chargers/CP-000004/up/FrobnicateResponse | jq -e '.type == "Error" and .data.code == "NotImplemented"' >/dev/null || fail "bad json error"

# --- user-defined messages -----------------------------------------------------------------
cat >"$T/catalog.json" <<'JSON'
{
  "VendorAlarm": {"level": {arg.level|1}, "charger": "{id}", "meter": {meter_wh},
                  "note": "alarm on {id} {{sic}}", "at": "{ts}", "dice": {rand:1:6}}
}
JSON
cli catalog load "$T/catalog.json" >/dev/null || fail "catalog load failed"
cli trigger CP-000003 VendorAlarm level=3 >/dev/null || fail "trigger of a user-defined message failed"
wait_for "VendorAlarm" 5 has_frame "$T/all.txt" chargers/CP-000003/up/VendorAlarm '"VendorAlarm"'
frame_of "$T/all.txt" chargers/CP-000003/up/VendorAlarm | jq -e '.[3].level == 3 and .[3].charger == "CP-000003" and (.[3].meter | type == "number") and .[3].note == "alarm on CP-000003 {sic}" and .[3].dice >= 1 and .[3].dice <= 6' >/dev/null ||
  fail "bad VendorAlarm: $(frame_of "$T/all.txt" chargers/CP-000003/up/VendorAlarm)"
printf '{\n  "Broken": {"x": {nosuch}}\n}\n' >"$T/broken.json"
if cli catalog load "$T/broken.json" 2>"$T/broken.txt"; then fail "a broken template was loaded"; fi
grep -q "broken.json:2:.*unknown placeholder {nosuch}" "$T/broken.txt" || fail "no position in: $(cat "$T/broken.txt")"
[ -z "$(rcli HGET "$NS:catalog" Broken)" ] || fail "the broken template was written"

# --- automatic sessions (Poisson arrivals, compressed time, seeded) ---------------------------
cli config set --charger CP-000003 sessions_per_h=3600 time_scale=60 session_kwh=0.5 >/dev/null
wait_for "an automatic session ends (EV leaves)" 40 has_frame "$T/all.txt" chargers/CP-000003/up/StopTransaction '"EVDisconnected"'
log "automatic session: $(frame_of "$T/all.txt" chargers/CP-000003/up/StopTransaction '"EVDisconnected"' | jq -c '{meterStop: .[3].meterStop, reason: .[3].reason}')"

validate_ocpp "$T/all.txt" >"$T/validate.txt" 2>&1 || { cat "$T/validate.txt"; fail "messages that do not follow the OCPP 1.6 schemas"; }
log "$(tail -2 "$T/validate.txt" | sed -n 1p)"
pgrep -f "swarm-agent --name a1" >/dev/null || fail "the agent died"
log "ok: bare broker sessions, offline queue in order, strict, json profile, catalog, automatic sessions"
