#!/usr/bin/env bash
# Chargers against a platform that answers (tools/fake-csms): one CALL outstanding at a time,
# the platform's transactionId used from then on, refused idTags honoured; then every
# platform CALL sent to a running charger, its answer and what follows; finally every message
# the chargers sent validated against the OCPP 1.6 JSON schemas.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
mqtt_sub 'chargers/#' "$T/all.txt"
start_csms --reject-tags BAD --first-tx 1000
setup_fleet 3
rcli HSET "$NS:cfg" meter_s 2 >/dev/null
rcli HSET "$NS:charger:CP-000003" time_scale 200 >/dev/null
start_coordinator
start_agent a1 1 3
wait_for "3 chargers connected" 30 connected_is 3
booted() { [ "$(grep '"dir":"out"' "$T/csms.jsonl" | grep -c '"interval"')" -ge 3 ]; }
wait_for "3 BootNotifications answered" 10 booted

# --- a session against the answering platform -----------------------------------------
cli start CP-000001 >/dev/null
wait_for "StartTransaction of CP-000001" 10 has_frame "$T/all.txt" chargers/CP-000001/up/StartTransaction '"StartTransaction"'
wait_for "MeterValues with the platform's transactionId 1000" 10 \
  has_frame "$T/all.txt" chargers/CP-000001/up/MeterValues '"transactionId":1000'
cli stop CP-000001 >/dev/null
wait_for "StopTransaction of transaction 1000" 10 \
  has_frame "$T/all.txt" chargers/CP-000001/up/StopTransaction '"transactionId":1000'
frame_of "$T/all.txt" chargers/CP-000001/up/StopTransaction | jq -e '.[3].reason == "Local" and (.[3].meterStop | type == "number") and .[3].transactionData[0].sampledValue[0].context == "Transaction.End"' >/dev/null ||
  fail "bad StopTransaction: $(frame_of "$T/all.txt" chargers/CP-000001/up/StopTransaction)"
! grep -q 'chargers/CP-000001/up/MeterValues .*"transactionId":-1' "$T/all.txt" ||
  fail "a local transactionId went out after the platform assigned one"

# One CALL outstanding at a time: between two CALLs of a charger, the platform answered.
order=$(jq -r 'select(.charger == "CP-000001") | (if .dir == "in" and (.frame | type) == "array" and .frame[0] == 2 then "C" elif .dir == "out" then "A" else empty end)' "$T/csms.jsonl" | tr -d '\n')
case "$order" in *CC*) fail "CP-000001 sent a CALL before the previous one was answered: $order" ;; esac
log "CP-000001 CALL/answer sequence: $order"

# A refused idTag: Authorize answered Invalid, no StartTransaction follows.
cli start CP-000002 id_tag=BAD >/dev/null
auth_refused() { grep '"dir":"out"' "$T/csms.jsonl" | grep '"charger":"CP-000002"' | grep '"Invalid"' >/dev/null; }
wait_for "Authorize of BAD answered Invalid" 10 auth_refused
t_refused=$(now_ms)
window_until $((t_refused + 1500))
! has_frame "$T/all.txt" chargers/CP-000002/up/StartTransaction '"StartTransaction"' ||
  fail "CP-000002 started a transaction with a refused idTag"

# --- every platform CALL, on CP-000003 -----------------------------------------------------
# answer UID -> the frame CP-000003 answered with
answer() { mqtt_lines "$T/all.txt" | awk '$2 ~ /^chargers\/CP-000003\/up\/.*Response$/' | grep -F "\"$1\"" | sed -n 1p | cut -d' ' -f3-; }
answered() { [ -n "$(answer "$1")" ]; }
# ask UID FRAME JQ: send, wait for the answer, check it
ask() {
  local uid=$1 frame=$2 check=$3
  down CP-000003 "$frame"
  wait_for "answer to $uid" 10 answered "$uid"
  answer "$uid" | jq -e "$check" >/dev/null || fail "answer to $frame: $(answer "$uid")"
}
sent3() { has_frame "$T/all.txt" "chargers/CP-000003/up/$1" "${2:-}"; }

ask d1 '[2,"d1","RemoteStartTransaction",{"idTag":"R1","connectorId":1}]' '.[0] == 3 and .[2].status == "Accepted"'
wait_for "StartTransaction after RemoteStartTransaction" 10 sent3 StartTransaction '"idTag":"R1"'
tx_conf() { grep '"dir":"out"' "$T/csms.jsonl" | grep '"charger":"CP-000003"' | grep -o '"transactionId":[0-9]*' | tail -1 | cut -d: -f2; }
wait_eval "StartTransaction answered" 10 '[ -n "$(tx_conf)" ]'
tx=$(tx_conf)
wait_for "the transaction id $tx in use" 10 sent3 MeterValues "\"transactionId\":$tx"
ask d2 "[2,\"d2\",\"RemoteStopTransaction\",{\"transactionId\":$tx}]" '.[2].status == "Accepted"'
wait_for "StopTransaction reason Remote" 10 sent3 StopTransaction '"reason":"Remote"'
ask d2b '[2,"d2b","RemoteStopTransaction",{"transactionId":424242}]' '.[2].status == "Rejected"'

ask d3 '[2,"d3","ChangeConfiguration",{"key":"HeartbeatInterval","value":"7"}]' '.[2].status == "Accepted"'
wait_eval "heartbeat_s=7 written to the charger's hash" 5 '[ "$(rcli HGET "$NS:charger:CP-000003" heartbeat_s)" = 7 ]'
ask d3b '[2,"d3b","ChangeConfiguration",{"key":"NumberOfConnectors","value":"4"}]' '.[2].status == "Rejected"'
ask d3c '[2,"d3c","ChangeConfiguration",{"key":"NoSuchKey","value":"4"}]' '.[2].status == "NotSupported"'
ask d4 '[2,"d4","GetConfiguration",{"key":["HeartbeatInterval","Nope"]}]' \
  '.[2].configurationKey[0] == {"key":"HeartbeatInterval","readonly":false,"value":"7"} and .[2].unknownKey == ["Nope"]'
ask d4b '[2,"d4b","GetConfiguration",{}]' '(.[2].configurationKey | length) >= 8'

ask d5 '[2,"d5","ChangeAvailability",{"connectorId":1,"type":"Inoperative"}]' '.[2].status == "Accepted"'
wait_for "StatusNotification Unavailable" 5 sent3 StatusNotification '"Unavailable"'
ask d6 '[2,"d6","ChangeAvailability",{"connectorId":1,"type":"Operative"}]' '.[2].status == "Accepted"'
ask d7 '[2,"d7","UnlockConnector",{"connectorId":1}]' '.[2].status == "Unlocked"'
ask d7b '[2,"d7b","UnlockConnector",{"connectorId":9}]' '.[2].status == "NotSupported"'
ask d8 '[2,"d8","TriggerMessage",{"requestedMessage":"MeterValues","connectorId":1}]' '.[2].status == "Accepted"'
wait_for "MeterValues context Trigger" 5 sent3 MeterValues '"context":"Trigger"'
ask d8b '[2,"d8b","TriggerMessage",{"requestedMessage":"DiagnosticsStatusNotification"}]' '.[2].status == "Accepted"'
wait_for "DiagnosticsStatusNotification" 5 sent3 DiagnosticsStatusNotification '"Idle"'
ask d9 '[2,"d9","DataTransfer",{"vendorId":"Chargeswarm","data":"ping"}]' '.[2] == {"status":"Accepted","data":"ping"}'
ask d9b '[2,"d9b","DataTransfer",{"vendorId":"Other"}]' '.[2].status == "UnknownVendorId"'

now_iso=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ask d10 "[2,\"d10\",\"UpdateFirmware\",{\"location\":\"https://fw.example/fw-2.0.1.bin\",\"retrieveDate\":\"$now_iso\"}]" '.[2] == {}'
for s in Downloading Downloaded Installing Installed; do
  wait_for "FirmwareStatusNotification $s" 10 sent3 FirmwareStatusNotification "\"$s\""
done
wait_for "BootNotification with the new firmware" 10 sent3 BootNotification '"firmwareVersion":"fw-2.0.1"'
[ "$(rcli HGET "$NS:charger:CP-000003" firmware)" = fw-2.0.1 ] || fail "firmware override not written"

boots_before=$(grep -c 'chargers/CP-000003/up/BootNotification' "$T/all.txt")
ask d11 '[2,"d11","Reset",{"type":"Soft"}]' '.[2].status == "Accepted"'
more_boots() { [ "$(grep -c 'chargers/CP-000003/up/BootNotification' "$T/all.txt")" -gt "$boots_before" ]; }
wait_for "BootNotification after the Reset" 15 more_boots

# The Reservation, Local Auth List, Smart Charging and diagnostics CALLs (their answers are
# checked against the schemas below).
cli unplug CP-000003 >/dev/null || true   # Finishing since the remote stop
now_available() { mqtt_lines "$T/all.txt" | awk '$2 == "chargers/CP-000003/up/StatusNotification"' | tail -1 | grep -q '"Available"'; }
wait_for "CP-000003 Available" 5 now_available
exp=$(date -u -d "@$(( $(date +%s) + 600 ))" +%Y-%m-%dT%H:%M:%SZ)
ask r1 "[2,\"r1\",\"ReserveNow\",{\"connectorId\":1,\"expiryDate\":\"$exp\",\"idTag\":\"RES-1\",\"reservationId\":5}]" '.[2].status == "Accepted"'
wait_for "StatusNotification Reserved" 5 sent3 StatusNotification '"Reserved"'
ask r2 '[2,"r2","CancelReservation",{"reservationId":5}]' '.[2].status == "Accepted"'
ask l1 '[2,"l1","SendLocalList",{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"L1","idTagInfo":{"status":"Accepted"}}]}]' '.[2].status == "Accepted"'
ask l2 '[2,"l2","GetLocalListVersion",{}]' '.[2].listVersion == 1'
ask l3 '[2,"l3","ClearCache",{}]' '.[2].status == "Accepted"'
ask s1 '[2,"s1","SetChargingProfile",{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16,"numberPhases":3}]}}}]' '.[2].status == "Accepted"'
ask s2 '[2,"s2","GetCompositeSchedule",{"connectorId":0,"duration":300}]' '.[2].status == "Accepted"'
ask s3 '[2,"s3","ClearChargingProfile",{}]' '.[2].status == "Accepted"'
ask g1 '[2,"g1","GetDiagnostics",{"location":"ftp://diag.example/"}]' '.[2].fileName | startswith("diagnostics-CP-000003-")'

# Errors: the CALLERROR code names the problem, the charger keeps working.
ask e1 '[2,"e1","Frobnicate",{}]' '.[0] == 4 and .[2] == "NotImplemented"'
ask e2 '[2,"e2","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":-5}]}}}]' '.[0] == 4 and .[2] == "PropertyConstraintViolation"'
ask e3 '[2,"e3","Reset",{"type":"Medium"}]' '.[0] == 4 and .[2] == "PropertyConstraintViolation"'
ask e4 '[2,"e4","RemoteStopTransaction",{}]' '.[0] == 4 and .[2] == "OccurenceConstraintViolation"'
ask e5 '[2,"e5","UnlockConnector",{"connectorId":"one"}]' '.[0] == 4 and .[2] == "TypeConstraintViolation"'
ask e6 '[2,"e6","Reset"]' '.[0] == 4 and .[2] == "FormationViolation"'
down CP-000003 'this is not json'
garbage_answered() { mqtt_lines "$T/all.txt" | grep 'chargers/CP-000003/up/UnknownResponse \[4,"-1","FormationViolation"' >/dev/null; }
wait_for "FormationViolation for garbage" 5 garbage_answered
ask d12 '[2,"d12","TriggerMessage",{"requestedMessage":"Heartbeat"}]' '.[2].status == "Accepted"'

# The remaining outgoing message types, then the schema check of everything sent.
cli trigger CP-000001 DataTransfer messageId=probe data=x >/dev/null
wait_for "DataTransfer of CP-000001" 5 has_frame "$T/all.txt" chargers/CP-000001/up/DataTransfer '"probe"'
validate_ocpp --require Authorize,BootNotification,DataTransfer,DiagnosticsStatusNotification,FirmwareStatusNotification,Heartbeat,MeterValues,StartTransaction,StatusNotification,StopTransaction,ChangeAvailabilityResponse,ChangeConfigurationResponse,DataTransferResponse,GetConfigurationResponse,RemoteStartTransactionResponse,RemoteStopTransactionResponse,ResetResponse,TriggerMessageResponse,UnlockConnectorResponse,UpdateFirmwareResponse,CancelReservationResponse,ClearCacheResponse,ClearChargingProfileResponse,GetCompositeScheduleResponse,GetDiagnosticsResponse,GetLocalListVersionResponse,ReserveNowResponse,SendLocalListResponse,SetChargingProfileResponse \
  "$T/all.txt" >"$T/validate.txt" 2>&1 || { cat "$T/validate.txt"; fail "messages that do not follow the OCPP 1.6 schemas"; }
log "$(tail -2 "$T/validate.txt" | sed -n 1p)"
pgrep -f "swarm-agent --name a1" >/dev/null || fail "the agent died"
log "ok: answering platform, every downlink CALL answered and acted on, all messages schema-valid"
