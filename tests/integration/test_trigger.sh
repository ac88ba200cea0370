#!/usr/bin/env bash
# (b) A bare redis-cli PUBLISH trigger on one charger puts exactly that message on its MQTT
# topic, and on no other charger's.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
setup_fleet 20
mqtt_sub 'chargers/+/up/StatusNotification' "$T/boot.txt"
start_coordinator
start_agent a1 2 20
wait_for "20 chargers connected" 30 connected_is 20
# After its BootNotification each charger reports connectors 0 and 1: let that settle first.
booted() { [ "$(mqtt_lines "$T/boot.txt" | wc -l)" -ge 40 ]; }
wait_for "the boot StatusNotifications" 15 booted
mqtt_sub 'chargers/+/up/StatusNotification' "$T/status.txt"

t0=$(now_ms)
receivers=$(rcli PUBLISH "$NS:cmd" "trigger CP-000007 StatusNotification status=Faulted errorCode=GroundFailure")
[ "$receivers" -ge 2 ] || fail "PUBLISH reached $receivers subscribers, want both workers"
wait_for "the Faulted StatusNotification of CP-000007" 5 grep -q 'chargers/CP-000007/up/StatusNotification .*"Faulted"' "$T/status.txt"
log "trigger -> message seen by the subscriber in $(( $(now_ms) - t0 )) ms"

line=$(mqtt_lines "$T/status.txt" | grep 'CP-000007' | grep '"Faulted"' | sed -n 1p)
payload=${line#* * }
echo "$payload" | jq -e '.[0] == 2 and (.[1] | type == "string") and .[2] == "StatusNotification"
  and .[3].status == "Faulted" and .[3].errorCode == "GroundFailure" and .[3].connectorId == 1
  and (.[3].timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' >/dev/null ||
  fail "unexpected frame: $payload"

# JSON form, and a selector over several chargers.
rcli PUBLISH "$NS:cmd" '{"id":"t2","cmd":"trigger","select":"CP-000011..CP-000013","msg":"StatusNotification","args":{"status":"Unavailable"}}' >/dev/null
wait_eval "three Unavailable notifications" 5 '[ "$(grep -c "\"Unavailable\"" "$T/status.txt")" -eq 3 ]'
for id in CP-000011 CP-000012 CP-000013; do
  grep -q "chargers/$id/up/StatusNotification .*\"Unavailable\"" "$T/status.txt" || fail "$id did not send"
done

# Nobody else sent anything.
others=$(mqtt_lines "$T/status.txt" | awk '{print $2}' | grep -v -e CP-000007 -e CP-00001[123] || true)
[ -z "$others" ] || fail "other chargers sent StatusNotification: $others"
log "ok: exactly the selected chargers sent, with the overridden fields"
