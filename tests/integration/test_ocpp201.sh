#!/usr/bin/env bash
# OCPP 2.0.1 chargers against a real CSMS library (ocpp_csms.js on ocpp-rpc in strict mode,
# validating every frame both ways against the official 2.0.1 schemas), beside 1.6 chargers.
# 1. A mixed fleet: three chargers on 2.0.1 (subprotocol ocpp2.0.1), one on 1.6; each boots in
#    its version; 2.0.1 reports one StatusNotification per EVSE.
# 2. Sessions: Authorize, TransactionEvent Started / Updated / Ended with seqNo 0, 1, 2...;
#    RequestStartTransaction (remoteStartId), GetTransactionStatus, RequestStopTransaction.
# 3. The platform's CALLs: TriggerMessage of every message, GetVariables, SetVariables (the key
#    written), GetBaseReport with NotifyReport parts, ChangeAvailability, UnlockConnector,
#    DataTransfer, ClearCache, GetLocalListVersion, UpdateFirmware, GetLog, Reset (boot reason
#    RemoteReset); an action the chargers do not implement is refused NotImplemented.
# 4. The operator's verbs on 2.0.1 (trigger NotifyEvent), and a live switch of a 1.6 charger
#    to 2.0.1. 0 schema violations.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocpp_csms_setup.sh"
ocpp_csms_deps || exit $?

N=4
ctl() { curl -sS -m 15 -X POST "http://127.0.0.1:$CTL_PORT/$1" -H 'Content-Type: application/json' -d "$2"; }
call() { ctl call "{\"charger\":\"$1\",\"method\":\"$2\",\"params\":$3}"; }
expect() { [ "$(jq -r .status <<<"$2")" = "$1" ] || fail "$3: want $1, got $2"; }
frames_in() { jq -c --arg c "$1" --arg m "$2" 'select(.dir == "in" and .charger == $c and .frame[0] == 2 and .frame[2] == $m) | .frame[3]' "$T/ocpp.jsonl"; }
count_in() { frames_in "$1" "$2" | wc -l; }
protocol_of() { jq -r --arg c "$1" 'select(.event == "connect" and .charger == $c) | .protocol' "$T/ocpp.jsonl" | tail -1; }
tx_events() { frames_in "$1" TransactionEvent | jq -c '{e: .eventType, s: .seqNo, r: .triggerReason, id: .transactionInfo.transactionId}'; }

start_redis
WS_PORT=$(free_port); CTL_PORT=$(free_port)
spawn "$T/csms.out" node "$OCPP_CSMS_JS" --port "$WS_PORT" --ctl-port "$CTL_PORT" \
  --log "$T/ocpp.jsonl" --heartbeat 60 --protocols ocpp2.0.1,ocpp1.6
wait_for "CSMS ready" 20 grep -q "ready" "$T/csms.out"
rcli HSET "$NS:cfg" broker "ws://127.0.0.1:$WS_PORT/ocpp" ocpp_version 2.0.1 connectors 2 meter_s 1 \
  measurands "Energy.Active.Import.Register,Power.Active.Import" >/dev/null
rcli HSET "$NS:charger:CP-000004" ocpp_version 1.6 >/dev/null
rcli HSET "$NS:fleet" size $N >/dev/null
start_coordinator
start_agent a1 1 $((N + 2))
wait_for "$N chargers connected" 30 connected_is $N

# ---- 1. mixed fleet ------------------------------------------------------------------------------
for i in 1 2 3; do
  id=CP-00000$i
  [ "$(protocol_of $id)" = ocpp2.0.1 ] || fail "$id connected with $(protocol_of $id)"
  wait_eval "$id booted (2.0.1) and reported its 2 EVSEs" 15 \
    "frames_in $id BootNotification | jq -s -e 'any(.[]; .reason == \"PowerUp\" and .chargingStation.model)' >/dev/null && [ \$(count_in $id StatusNotification) -ge 2 ]"
done
[ "$(protocol_of CP-000004)" = ocpp1.6 ] || fail "CP-000004 connected with $(protocol_of CP-000004)"
wait_eval "CP-000004 booted in 1.6" 15 "frames_in CP-000004 BootNotification | jq -e '.chargePointVendor' >/dev/null"
frames_in CP-000001 StatusNotification | jq -s -e 'any(.[]; .evseId == 0)' >/dev/null && fail "a StatusNotification for EVSE 0"
log "1: three chargers on ocpp2.0.1, one on ocpp1.6 in the same fleet"

# ---- 2. sessions -----------------------------------------------------------------------------------
cli start CP-000001 connector=1 id_tag=T201 >/dev/null
wait_eval "Authorize T201 (idToken)" 10 "frames_in CP-000001 Authorize | jq -s -e 'any(.[]; .idToken.idToken == \"T201\")' >/dev/null"
wait_eval "TransactionEvent Started then Updated" 15 \
  "tx_events CP-000001 | jq -s -e 'length >= 3 and .[0].e == \"Started\" and .[0].s == 0 and .[1].e == \"Updated\" and .[1].r == \"MeterValuePeriodic\"' >/dev/null"
cli stop CP-000001 >/dev/null
wait_eval "TransactionEvent Ended, stoppedReason Local" 10 \
  "frames_in CP-000001 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Ended\" and .transactionInfo.stoppedReason == \"Local\")' >/dev/null"
tx_events CP-000001 | jq -s -e '[.[].s] == [range(length)] and ([.[].id] | unique | length) == 1' >/dev/null ||
  fail "seqNo not 0, 1, 2... or the transactionId changed: $(tx_events CP-000001 | paste -sd' ')"
out=$(call CP-000002 RequestStartTransaction '{"idToken":{"idToken":"R201","type":"Central"},"remoteStartId":42,"evseId":1}')
expect Accepted "$out" "RequestStartTransaction"
wait_eval "Started with remoteStartId 42 (RemoteStart)" 10 \
  "frames_in CP-000002 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Started\" and .transactionInfo.remoteStartId == 42 and .triggerReason == \"RemoteStart\")' >/dev/null"
txid=$(frames_in CP-000002 TransactionEvent | jq -r 'select(.eventType == "Started") | .transactionInfo.transactionId' | tail -1)
out=$(call CP-000002 GetTransactionStatus "{\"transactionId\":\"$txid\"}")
jq -e '.ongoingIndicator == true' <<<"$out" >/dev/null || fail "GetTransactionStatus: $out"
expect Accepted "$(call CP-000002 RequestStopTransaction "{\"transactionId\":\"$txid\"}")" "RequestStopTransaction"
wait_eval "Ended stoppedReason Remote" 10 \
  "frames_in CP-000002 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Ended\" and .transactionInfo.stoppedReason == \"Remote\")' >/dev/null"
expect Rejected "$(call CP-000002 RequestStopTransaction '{"transactionId":"no-such-tx"}')" "RequestStopTransaction of an unknown id"
cli unplug CP-000001 >/dev/null; cli unplug CP-000002 >/dev/null
log "2: TransactionEvent Started/Updated/Ended with seqNo, remote start and stop, GetTransactionStatus"

# ---- 3. the platform's CALLs -------------------------------------------------------------------------
cli start CP-000003 connector=2 id_tag=T3 >/dev/null
wait_eval "CP-000003 in a transaction" 10 "[ \$(count_in CP-000003 TransactionEvent) -ge 1 ]"
expect Rejected "$(call CP-000003 TriggerMessage '{"requestedMessage":"BootNotification"}')" \
  "TriggerMessage BootNotification once the boot was accepted (F06.FR.17)"
for m in Heartbeat StatusNotification MeterValues TransactionEvent FirmwareStatusNotification LogStatusNotification; do
  before=$(count_in CP-000003 "$m")
  expect Accepted "$(call CP-000003 TriggerMessage "{\"requestedMessage\":\"$m\",\"evse\":{\"id\":2}}")" "TriggerMessage $m"
  wait_eval "triggered $m" 10 "[ \$(count_in CP-000003 $m) -gt $before ]"
done
# (readings arrive every second anyway: the triggered ones are told by their reason)
wait_eval "the triggered TransactionEvent's reason" 10 \
  "frames_in CP-000003 TransactionEvent | jq -s -e 'any(.[]; .triggerReason == \"Trigger\")' >/dev/null"
wait_eval "the triggered MeterValues' context" 10 \
  "frames_in CP-000003 MeterValues | jq -s -e 'any(.[]; .meterValue[0].sampledValue[0].context == \"Trigger\")' >/dev/null"
cli stop CP-000003 >/dev/null; cli unplug CP-000003 >/dev/null
out=$(call CP-000003 GetVariables '{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},{"component":{"name":"NoSuchCtrlr"},"variable":{"name":"X"}}]}')
jq -e '.getVariableResult[0].attributeStatus == "Accepted" and .getVariableResult[0].attributeValue == "60" and .getVariableResult[1].attributeStatus == "UnknownComponent"' \
  <<<"$out" >/dev/null || fail "GetVariables: $out"
out=$(call CP-000003 SetVariables '{"setVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"7"}]}')
jq -e '.setVariableResult[0].attributeStatus == "Accepted"' <<<"$out" >/dev/null || fail "SetVariables: $out"
wait_eval "heartbeat_s=7 in CP-000003's hash" 10 '[ "$(rcli HGET "$NS:charger:CP-000003" heartbeat_s)" = 7 ]'
expect Accepted "$(call CP-000003 GetBaseReport '{"requestId":5,"reportBase":"FullInventory"}')" "GetBaseReport"
wait_eval "NotifyReport parts for request 5, the last with tbc false" 15 \
  "frames_in CP-000003 NotifyReport | jq -s -e 'map(select(.requestId == 5)) | length >= 1 and (.[-1].tbc | not)' >/dev/null"
parts=$(frames_in CP-000003 NotifyReport | jq -s 'map(select(.requestId == 5)) | length')
expect Accepted "$(call CP-000003 ChangeAvailability '{"operationalStatus":"Inoperative","evse":{"id":2}}')" "ChangeAvailability"
wait_eval "EVSE 2 Unavailable" 10 \
  "frames_in CP-000003 StatusNotification | jq -s -e 'any(.[]; .evseId == 2 and .connectorStatus == \"Unavailable\")' >/dev/null"
expect Accepted "$(call CP-000003 ChangeAvailability '{"operationalStatus":"Operative","evse":{"id":2}}')" "ChangeAvailability back"
expect Unlocked "$(call CP-000003 UnlockConnector '{"evseId":1,"connectorId":1}')" "UnlockConnector"
expect UnknownConnector "$(call CP-000003 UnlockConnector '{"evseId":9,"connectorId":1}')" "UnlockConnector of EVSE 9"
expect Accepted "$(call CP-000003 DataTransfer '{"vendorId":"Chargeswarm","data":"ping"}')" "DataTransfer"
expect Accepted "$(call CP-000003 ClearCache '{}')" "ClearCache"
[ "$(call CP-000003 GetLocalListVersion '{}' | jq -r .versionNumber)" = 0 ] || fail "GetLocalListVersion"
rcli HSET "$NS:charger:CP-000003" time_scale 20 >/dev/null
out=$(call CP-000003 GetLog '{"logType":"DiagnosticsLog","requestId":9,"log":{"remoteLocation":"ftp://logs.example/"}}')
jq -e '.status == "Accepted" and (.filename | length > 0)' <<<"$out" >/dev/null || fail "GetLog: $out"
wait_eval "LogStatusNotification Uploaded" 10 "frames_in CP-000003 LogStatusNotification | jq -s -e 'any(.[]; .status == \"Uploaded\" and .requestId == 9)' >/dev/null"
expect Accepted "$(call CP-000003 GetReport '{"requestId":6,"componentVariable":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}')" "GetReport"
wait_eval "NotifyReport for request 6 with HeartbeatInterval 7" 10 \
  "frames_in CP-000003 NotifyReport | jq -s -e 'any(.[] | select(.requestId == 6) | .reportData[]; .variable.name == \"HeartbeatInterval\" and .variableAttribute[0].value == \"7\")' >/dev/null"
fw_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect Accepted "$(call CP-000003 UpdateFirmware "{\"requestId\":3,\"firmware\":{\"location\":\"https://fw.example/fw-3.0.bin\",\"retrieveDateTime\":\"$fw_at\"}}")" "UpdateFirmware"
wait_eval "FirmwareStatusNotification Installed and a boot for FirmwareUpdate" 30 \
  "frames_in CP-000003 FirmwareStatusNotification | jq -s -e 'any(.[]; .status == \"Installed\" and .requestId == 3)' >/dev/null && frames_in CP-000003 BootNotification | jq -s -e 'any(.[]; .reason == \"FirmwareUpdate\" and .chargingStation.firmwareVersion == \"fw-3.0\")' >/dev/null"
wait_for "$N connected after the firmware update" 20 connected_is $N
# hostile nested values (past the top-level checks): a CALLERROR, the charger lives on
send_raw() { ctl send "{\"charger\":\"CP-000003\",\"frame\":$1}" | jq -r '.response[2]'; }
[ "$(send_raw '[2,"h1","UpdateFirmware",{"requestId":1,"firmware":{}}]')" = OccurrenceConstraintViolation ] ||
  fail "UpdateFirmware without firmware.location"
[ "$(send_raw '[2,"h2","ReserveNow",{"id":1,"expiryDateTime":"2030-01-01T00:00:00Z","idToken":{"type":"ISO14443"}}]')" = OccurrenceConstraintViolation ] ||
  fail "ReserveNow with an idToken without idToken"
[ "$(send_raw '[2,"h3","ClearChargingProfile",{"chargingProfileCriteria":{"chargingProfilePurpose":"Bogus"}}]')" = PropertyConstraintViolation ] ||
  fail "ClearChargingProfile with a bad purpose"
connected_is $N || fail "a charger went down on hostile input"
code=$(call CP-000003 CostUpdated '{"totalCost":1.5,"transactionId":"x"}' | jq -r .code)
[ "$code" = NotImplemented ] || fail "CostUpdated answered $code"
boots=$(count_in CP-000003 BootNotification)
expect Accepted "$(call CP-000003 Reset '{"type":"Immediate"}')" "Reset Immediate"
wait_eval "boot after the Reset, reason RemoteReset" 20 \
  "frames_in CP-000003 BootNotification | jq -s -e 'any(.[]; .reason == \"RemoteReset\")' >/dev/null"
wait_for "$N connected after the Reset" 20 connected_is $N
log "3: every trigger, GetVariables, SetVariables, GetBaseReport ($parts NotifyReport parts), availability, unlock, GetLog, Reset"

# reservations, local list, smart charging in 2.0.1 shapes
exp=$(date -u -d "@$(( $(date +%s) + 300 ))" +%Y-%m-%dT%H:%M:%SZ)
expect Accepted "$(call CP-000001 ReserveNow "{\"id\":31,\"expiryDateTime\":\"$exp\",\"idToken\":{\"idToken\":\"RZ\",\"type\":\"ISO14443\"},\"evseId\":2}")" "ReserveNow"
wait_eval "EVSE 2 Reserved" 10 "frames_in CP-000001 StatusNotification | jq -s -e 'any(.[]; .evseId == 2 and .connectorStatus == \"Reserved\")' >/dev/null"
expect Accepted "$(call CP-000001 CancelReservation '{"reservationId":31}')" "CancelReservation"
expect Accepted "$(call CP-000001 SendLocalList '{"versionNumber":3,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"L1","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}]}')" "SendLocalList"
[ "$(call CP-000001 GetLocalListVersion '{}' | jq -r .versionNumber)" = 3 ] || fail "GetLocalListVersion after SendLocalList"
cli start CP-000001 connector=1 id_tag=SC >/dev/null
wait_eval "CP-000001 charging" 10 "frames_in CP-000001 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Started\" and .idToken.idToken == \"SC\")' >/dev/null"
txid=$(frames_in CP-000001 TransactionEvent | jq -r 'select(.eventType == "Started") | .transactionInfo.transactionId' | tail -1)
out=$(call CP-000001 SetChargingProfile "{\"evseId\":1,\"chargingProfile\":{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Relative\",\"transactionId\":\"$txid\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":7000}]}]}}")
expect Accepted "$out" "SetChargingProfile 7 kW"
out=$(call CP-000001 GetCompositeSchedule '{"duration":300,"evseId":1}')
jq -e '.status == "Accepted" and .schedule.evseId == 1 and .schedule.chargingSchedulePeriod[0].limit == 7000' <<<"$out" >/dev/null ||
  fail "GetCompositeSchedule: $out"
power() { frames_in CP-000001 TransactionEvent | jq -r 'select(.eventType == "Updated") | .meterValue[0].sampledValue[] | select(.measurand == "Power.Active.Import") | .value' | tail -1; }
wait_eval "the reported power follows 7 kW" 10 '[ "$(power)" = 7000 ]'
expect Accepted "$(call CP-000001 ClearChargingProfile '{"chargingProfileId":1}')" "ClearChargingProfile"
cli stop CP-000001 >/dev/null; cli unplug CP-000001 >/dev/null
log "3b: ReserveNow, CancelReservation, SendLocalList, SetChargingProfile (power at 7 kW), GetCompositeSchedule, ClearChargingProfile"

# ---- 4. operator verbs, live version switch ----------------------------------------------------
cli trigger CP-000001 DataTransfer vendorId=com.example messageId=ping >/dev/null
wait_eval "a DataTransfer from the charger" 10 "frames_in CP-000001 DataTransfer | jq -s -e 'any(.[]; .vendorId == \"com.example\")' >/dev/null"
cli trigger CP-000001 BootNotification >/dev/null
wait_eval "the operator's BootNotification, reason Triggered" 10 \
  "frames_in CP-000001 BootNotification | jq -s -e 'any(.[]; .reason == \"Triggered\")' >/dev/null"
cli trigger CP-000001 NotifyEvent >/dev/null
cli trigger CP-000001 SecurityEventNotification >/dev/null
wait_eval "NotifyEvent and SecurityEventNotification" 10 \
  "[ \$(count_in CP-000001 NotifyEvent) -ge 1 ] && [ \$(count_in CP-000001 SecurityEventNotification) -ge 1 ]"
# a user-defined message and automatic sessions on a 2.0.1 charger
cat >"$T/catalog.json" <<'JSON'
{"VendorPing201": {"charger": "{id}", "seq": {seq}, "note": "{arg.note|none}"}}
JSON
cli catalog load "$T/catalog.json" >/dev/null
cli trigger CP-000002 VendorPing201 note=hi >/dev/null
wait_eval "the user-defined message from a 2.0.1 charger" 10 \
  "frames_in CP-000002 VendorPing201 | jq -s -e 'any(.[]; .charger == \"CP-000002\" and .note == \"hi\")' >/dev/null"
rcli HSET "$NS:charger:CP-000003" sessions_per_h 600 time_scale 10 session_kwh 0.5 >/dev/null
wait_eval "an automatic session on a 2.0.1 charger: Started and Ended" 30 \
  "frames_in CP-000003 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Ended\" and .transactionInfo.stoppedReason == \"EVDisconnected\")' >/dev/null"
rcli HDEL "$NS:charger:CP-000003" sessions_per_h >/dev/null
log "4: a user-defined message and automatic sessions on 2.0.1"
# Reset OnIdle during a transaction: Scheduled, the reboot follows the transaction's end
cli start CP-000001 connector=1 id_tag=IDLE >/dev/null
wait_eval "CP-000001 in a transaction" 10 "frames_in CP-000001 TransactionEvent | jq -s -e 'any(.[]; .eventType == \"Started\" and .idToken.idToken == \"IDLE\")' >/dev/null"
boots=$(count_in CP-000001 BootNotification)
expect Scheduled "$(call CP-000001 Reset '{"type":"OnIdle"}')" "Reset OnIdle during a transaction"
window_until $(( $(now_ms) + 1500 ))
[ "$(count_in CP-000001 BootNotification)" = "$boots" ] || fail "Reset OnIdle rebooted during the transaction"
cli stop CP-000001 >/dev/null
wait_eval "the OnIdle reset once the transaction ended" 20 "[ \$(count_in CP-000001 BootNotification) -gt $boots ]"
wait_for "$N connected after the OnIdle reset" 20 connected_is $N
cli unplug CP-000001 >/dev/null || true
log "4: Reset OnIdle waited for the transaction's end"
rcli HDEL "$NS:charger:CP-000004" ocpp_version >/dev/null
wait_eval "CP-000004 switched to ocpp2.0.1 and booted in 2.0.1" 20 \
  "[ \"\$(protocol_of CP-000004)\" = ocpp2.0.1 ] && frames_in CP-000004 BootNotification | jq -s -e 'any(.[]; .reason)' >/dev/null"
# ---- 5. over MQTT the same topics carry 2.0.1 frames ----------------------------------------
start_mosquitto
start_csms   # fake-csms: its BootNotification answer is a valid 2.0.1 one too
mqtt_sub 'chargers/CP-000002/#' "$T/mqtt.txt"
rcli HSET "$NS:charger:CP-000002" broker "tcp://127.0.0.1:$MQTT_PORT" >/dev/null
wait_for "CP-000002's 2.0.1 BootNotification over MQTT" 20 has_frame "$T/mqtt.txt" chargers/CP-000002/up/BootNotification '"reason"'
cli start CP-000002 connector=1 id_tag=MQ >/dev/null
wait_for "TransactionEvent over MQTT" 10 has_frame "$T/mqtt.txt" chargers/CP-000002/up/TransactionEvent '"Started"'
cli stop CP-000002 >/dev/null
wait_for "TransactionEvent Ended over MQTT" 10 has_frame "$T/mqtt.txt" chargers/CP-000002/up/TransactionEvent '"Ended"'
validate_ocpp --version 2.0.1 --require BootNotification,StatusNotification,TransactionEvent "$T/mqtt.txt" \
  >"$T/validate.txt" 2>&1 || { cat "$T/validate.txt"; fail "2.0.1 messages over MQTT that break the schemas"; }
log "5: a 2.0.1 charger moved to MQTT: $(tail -1 "$T/validate.txt")"

# (a user-defined message is outside the schemas by nature: the strict CSMS refuses it)
v=$(jq -c 'select(.event == "violation" and .method != "VendorPing201")' "$T/ocpp.jsonl")
[ -z "$v" ] || fail "schema violations: $(head -5 <<<"$v")"
log "ok: OCPP 2.0.1 beside 1.6: sessions, the platform's CALLs, reports, verbs, a live switch; $(jq -c 'select(.frame[0] == 2)' "$T/ocpp.jsonl" | wc -l) CALLs, 0 schema violations"
