#!/usr/bin/env bash
# selftest.sh - proves the OCPP 1.6 schemas and validate.py on hand-written samples:
#   samples/valid/*.txt        captures (one message a line) that must pass: one per schema, plus
#                              profiles.txt (noise, downlink, user-defined, CALLERROR, json
#                              profile, fake-csms log lines)
#   samples/invalid/*.txt      one message each that breaks one rule: must fail with exactly one
#                              problem, whose text contains the expectation listed below
#   samples/frames/*.json      single frames for --frames (valid-* pass, invalid-* fail)
#   ../data/*.json             the golden frames of the unit tests: must pass with --frames
#   ../data/v201/*.json        the OCPP 2.0.1 golden frames: must pass with --frames --version
#                              2.0.1 against v201/<Action>Request.json (the official schemas)
# Exit 0 when everything behaves, 1 otherwise, 77 (skip) without python3-jsonschema.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
V="$HERE/validate.py"
S="$HERE/samples"

if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
  echo "SKIP: $PY cannot import jsonschema (apt-get install -y python3-jsonschema)"
  exit 77
fi

pass=0
failed=0
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; sed 's/^/       | /' "$OUT"; }

# run NAME WANT_RC [GREP_TEXT] -- ARGS... : validate.py ARGS must exit WANT_RC and, if given,
# print GREP_TEXT (fixed string).
run() {
  local name=$1 want=$2 text=$3
  shift 4
  "$PY" "$V" "$@" >"$OUT" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"; return 1
  elif [ -n "$text" ] && ! grep -qF -- "$text" "$OUT"; then
    bad "$name: output lacks: $text"; return 1
  else
    ok "$name"
  fi
}

# ---- every schema has a valid and an invalid sample ----------------------------------------
schemas=()
for f in "$HERE"/*.json; do
  n=$(basename "$f" .json)
  schemas+=("$n")
  for kind in valid invalid; do
    if [ -f "$S/$kind/$n.txt" ]; then ok "$n has a $kind sample"; else
      : >"$OUT"; bad "$n has no $kind sample ($S/$kind/$n.txt)"; fi
  done
done
if [ ${#schemas[@]} -eq 29 ]; then ok "29 schemas"; else : >"$OUT"; bad "${#schemas[@]} schemas, want 29"; fi
all=$(IFS=,; echo "${schemas[*]}")

# ---- valid samples --------------------------------------------------------------------------
run "valid samples (every schema, CALLERROR and json Error seen)" 0 "" -- \
  --require "$all,CALLERROR,Error" "$S"/valid/*.txt
run "profiles.txt: noise skipped, downlink ignored, user-defined skipped" 0 \
  "11 message(s): 9 checked, 9 valid, 0 invalid, 2 skipped (no schema), 3 ignored (not uplink)" -- \
  "$S/valid/profiles.txt"
for f in "$S"/valid/*.txt; do
  n=$(basename "$f" .txt)
  [ "$n" = profiles ] && continue
  run "valid/$n.txt validates against $n.json" 0 "  $n " -- --require "$n" "$f"
done

# ---- invalid samples: file <TAB> expected text of the single failure ------------------------
declare -A expect
while IFS=$'\t' read -r file text; do
  [ -n "$file" ] && expect[$file]=$text
done <<'EOF'
Authorize	Authorize.json: at $.idTag: 'TAG-00000000000000001' is too long
BootNotification	BootNotification.json: at $: 'chargePointModel' is a required property
DataTransfer	DataTransfer.json: at $: 'vendorId' is a required property
DiagnosticsStatusNotification	DiagnosticsStatusNotification.json: at $.status: 'Failed' is not one of
FirmwareStatusNotification	FirmwareStatusNotification.json: at $.status: 'installed' is not one of
Heartbeat	Heartbeat.json: at $: Additional properties are not allowed ('ts' was unexpected)
MeterValues	MeterValues.json: at $.meterValue[0].sampledValue[0].value: 11000 is not of type 'string'
StartTransaction	StartTransaction.json: at $.timestamp: '2026-01-01 00:00:00' is not a 'date-time'
StatusNotification	StatusNotification.json: at $.status: 'Idle' is not one of
StopTransaction	StopTransaction.json: at $.reason: 'Stopped' is not one of
ChangeAvailabilityResponse	ChangeAvailabilityResponse.json: at $: 'status' is a required property
ChangeConfigurationResponse	ChangeConfigurationResponse.json: at $.status: 'NotImplemented' is not one of
DataTransferResponse	DataTransferResponse.json: at $.data: {'seq': 1} is not of type 'string'
GetConfigurationResponse	GetConfigurationResponse.json: at $.configurationKey[0].readonly: 'false' is not of type 'boolean'
RemoteStartTransactionResponse	RemoteStartTransactionResponse.json: at $.status: 'accepted' is not one of
RemoteStopTransactionResponse	RemoteStopTransactionResponse.json: at $: Additional properties are not allowed ('transactionId' was unexpected)
ResetResponse	ResetResponse.json: at $.status: 'Scheduled' is not one of
TriggerMessageResponse	TriggerMessageResponse.json: at $.status: 'NotSupported' is not one of
UnlockConnectorResponse	UnlockConnectorResponse.json: at $.status: 'Accepted' is not one of
UpdateFirmwareResponse	UpdateFirmwareResponse.json: at $: Additional properties are not allowed ('status' was unexpected)
CancelReservationResponse	CancelReservationResponse.json: at $.status: 'Unknown' is not one of
ClearCacheResponse	ClearCacheResponse.json: at $.status: 'Cleared' is not one of
ClearChargingProfileResponse	ClearChargingProfileResponse.json: at $.status: 'Rejected' is not one of
GetCompositeScheduleResponse	GetCompositeScheduleResponse.json: at $.chargingSchedule.chargingSchedulePeriod[0].limit: 16.05 is not a multiple of 0.1
GetDiagnosticsResponse	GetDiagnosticsResponse.json: at $.fileName: None is not of type 'string'
GetLocalListVersionResponse	GetLocalListVersionResponse.json: at $.listVersion: '42' is not of type 'integer'
ReserveNowResponse	ReserveNowResponse.json: at $.status: 'Reserved' is not one of
SendLocalListResponse	SendLocalListResponse.json: at $: Additional properties are not allowed ('listVersion' was unexpected)
SetChargingProfileResponse	SetChargingProfileResponse.json: at $.status: 'Unknown' is not one of
x-BootNotification-serial-too-long	at $.chargePointSerialNumber: 'CP-00000000000000000000001' is too long
x-GetCompositeScheduleResponse-no-periods	at $.chargingSchedule: 'chargingSchedulePeriod' is a required property
x-GetDiagnosticsResponse-fileName-too-long	xxxx-20260101.logx' is too long
x-CALL-uid-too-long	Heartbeat: UniqueId is longer than 36 characters
x-CALLERROR-code	CALLERROR: CALLERROR code Timeout is not an OCPP-J error code
x-CALLERROR-shape	CALLERROR: CALLERROR must have 5 elements
x-CALLRESULT-topic	CALLRESULT on topic whose last level 'reply' is not <Action>Response
x-MeterValues-empty-sampledValue	MeterValues.json: at $.meterValue[0].sampledValue: []
x-MeterValues-measurand	at $.meterValue[0].sampledValue[0].measurand: 'StateOfCharge' is not one of
x-MeterValues-unit	at $.meterValue[0].sampledValue[0].unit: 'kwh' is not one of
x-StartTransaction-float	StartTransaction.json: at $.connectorId: 1.0 is not of type 'integer'
x-StatusNotification-date-range	at $.timestamp: '2026-13-01T00:00:00Z' is not a 'date-time'
x-StatusNotification-errorCode	at $.errorCode: 'Mode3Error' is not one of
x-StatusNotification-no-zone	at $.timestamp: '2026-01-01T00:00:00.000' is not a 'date-time'
x-StopTransaction-transactionData-value	at $.transactionData[0].sampledValue[0].value: 15230 is not of type 'string'
x-fake-csms-frame-array	StatusNotification.json: at $.connectorId: '1' is not of type 'integer'
x-fake-csms-frame-string	Heartbeat.json: at $: Additional properties are not allowed ('seq' was unexpected)
x-json-BootNotification	BootNotification.json: at $.chargePointModel: 'VC-22-with-a-model-name-too-long' is too long
x-json-Error-code	Error: Error code FormatViolation is not an OCPP-J error code
x-json-envelope-ts	json envelope: "ts" yesterday: not an RFC 3339 date-time
x-line-no-time	not '<unix time> <topic> <payload>'
x-payload-not-json	payload is not JSON
EOF
for f in "$S"/invalid/*.txt; do
  n=$(basename "$f" .txt)
  if [ -z "${expect[$n]+set}" ]; then
    : >"$OUT"; bad "invalid/$n.txt has no expectation in selftest.sh"; continue
  fi
  run "invalid/$n.txt fails: ${expect[$n]}" 1 "${expect[$n]}" -- "$f" &&
    { grep -qF "FAILED (1 problem(s))" "$OUT" || bad "invalid/$n.txt: more than the one broken rule"; }
  unset "expect[$n]"
done
for n in "${!expect[@]}"; do : >"$OUT"; bad "expectation for missing sample invalid/$n.txt"; done

# ---- --frames: golden frames of tests/data and frame samples -------------------------------
shopt -s nullglob
golden=("$HERE"/../data/*.json)
if [ ${#golden[@]} -gt 0 ]; then
  run "tests/data/*.json (${#golden[@]} golden frames) validate" 0 "validate.py: OK" -- \
    --frames "${golden[@]}"
else
  : >"$OUT"; bad "no golden frames in tests/data"
fi
golden201=("$HERE"/../data/v201/*.json)
schemas201=("$HERE"/v201/*Request.json)
if [ ${#golden201[@]} -gt 0 ] && [ ${#schemas201[@]} -gt 0 ]; then
  # every 2.0.1 schema is that of a golden frame
  actions201=$(for f in "${schemas201[@]}"; do basename "$f" Request.json; done | paste -sd,)
  run "tests/data/v201/*.json (${#golden201[@]} golden 2.0.1 frames) validate" 0 "validate.py: OK" -- \
    --frames --version 2.0.1 --require "$actions201" "${golden201[@]}"
else
  : >"$OUT"; bad "no 2.0.1 golden frames in tests/data/v201 or no schemas in v201/"
fi
run "frames/v201-invalid-TransactionEvent.json fails (a sampled value as text)" 1 \
  "TransactionEventRequest.json: at \$.meterValue[0].sampledValue[0].value: '11000' is not of type 'number'" -- \
  --frames --version 2.0.1 "$S/frames/v201-invalid-TransactionEvent.json"
run "frames/valid-*.json validate" 0 "2 checked, 2 valid" -- --frames "$S"/frames/valid-*.json
run "frames/invalid-StatusNotification.json fails" 1 "at \$.info:" -- \
  --frames "$S/frames/invalid-StatusNotification.json"
run "frames/invalid-CALLRESULT.json fails (no action without a topic)" 1 \
  "a CALLRESULT does not name its action" -- --frames "$S/frames/invalid-CALLRESULT.json"
run "frames/invalid-two-frames.json fails (one frame a file)" 1 "file is not one JSON value" -- \
  --frames "$S/frames/invalid-two-frames.json"

# ---- options and exit codes -----------------------------------------------------------------
run "--require of an action that never appeared fails" 1 \
  "FAIL required action MeterValues never appeared" -- \
  --require Heartbeat,MeterValues "$S/valid/profiles.txt"
run "a missing file is a usage error" 2 "no such file" -- "$S/does-not-exist.txt"
run "valid and invalid together fail" 1 "FAILED (1 problem(s))" -- \
  "$S/valid/Heartbeat.txt" "$S/invalid/Heartbeat.txt"

echo "selftest: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
