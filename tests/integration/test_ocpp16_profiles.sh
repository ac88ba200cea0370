#!/usr/bin/env bash
# The OCPP 1.6 feature profiles beyond Core, driven by a real CSMS library (ocpp_csms.js on
# ocpp-rpc in strict mode: every frame both ways checked against the official schemas).
# 1. Reservation: ReserveNow makes a connector Reserved; only its idTag starts there (by the
#    operator's start and by RemoteStartTransaction) and StartTransaction carries the
#    reservationId; a reservation expires, is cancelled; connector 0 keeps one connector free;
#    a Faulted connector answers Faulted.
# 2. Local Auth List: SendLocalList full and differential with versions (VersionMismatch,
#    Failed beyond SendLocalListMaxLength), GetLocalListVersion; LocalPreAuthorize starts a
#    listed idTag without Authorize; offline, the list and the cache decide
#    (AllowOfflineTxForUnknownId); the authorize verb fills the cache, ClearCache empties it.
# 3. Smart Charging: a TxProfile of 7 kW makes the reported power and energy follow 7 kW
#    within a meter interval, ClearChargingProfile restores the charger's power;
#    GetCompositeSchedule; stacking of TxDefaultProfile levels; ChargePointMaxProfile.
# 4. TriggerMessage: every requestedMessage arrives.
# 5. GetConfiguration lists the profiles' keys, read-only ones included.
# 6. What the platform installed survives a worker killed: the charger, taken over, still has
#    its reservation (Reserved again), local list version and charging profile.
# 0 schema violations throughout.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocpp_csms_setup.sh"
ocpp_csms_deps || exit $?

N=3
ctl() { curl -sS -m 15 -X POST "http://127.0.0.1:$CTL_PORT/$1" -H 'Content-Type: application/json' -d "$2"; }
call() { ctl call "{\"charger\":\"$1\",\"method\":\"$2\",\"params\":$3}"; }
status_of() { jq -r .status <<<"$1"; }
expect() {   # expect WANT OUT WHAT
  [ "$(status_of "$2")" = "$1" ] || fail "$3: want $1, got $2"
}
frames_in() { jq -c --arg c "$1" --arg m "$2" 'select(.dir == "in" and .charger == $c and .frame[0] == 2 and .frame[2] == $m) | .frame[3]' "$T/ocpp.jsonl"; }
count_in() { frames_in "$1" "$2" | wc -l; }
last_status() {   # CHARGER CONNECTOR: the last status it reported
  frames_in "$1" StatusNotification | jq -r --argjson c "$2" 'select(.connectorId == $c) | .status' | tail -1
}
iso_in() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

start_redis
WS_PORT=$(free_port); CTL_PORT=$(free_port)
spawn "$T/csms.out" node "$OCPP_CSMS_JS" --port "$WS_PORT" --ctl-port "$CTL_PORT" \
  --log "$T/ocpp.jsonl" --heartbeat 60 --id-tags CACHE-BLK=Blocked,BAD-TAG=Invalid
wait_for "CSMS ready" 20 grep -q "ready" "$T/csms.out"
rcli HSET "$NS:cfg" broker "ws://127.0.0.1:$WS_PORT/ocpp" connectors 2 meter_s 1 \
  measurands "Energy.Active.Import.Register,Power.Active.Import,Power.Offered" >/dev/null
rcli HSET "$NS:fleet" size $N >/dev/null
start_coordinator
start_agent a1 1 $((N + 2))
wait_for "$N WebSocket chargers connected" 30 connected_is $N
for i in $(seq 1 $N); do
  wait_eval "CP-00000$i booted" 15 "[ \$(count_in CP-00000$i StatusNotification) -ge 3 ]"
done

# ---- 1. Reservation ---------------------------------------------------------------------------
out=$(call CP-000001 ReserveNow "{\"connectorId\":1,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-A\",\"reservationId\":11}")
expect Accepted "$out" "ReserveNow connector 1"
wait_eval "CP-000001 connector 1 Reserved" 10 '[ "$(last_status CP-000001 1)" = Reserved ]'
out=$(call CP-000001 ReserveNow "{\"connectorId\":1,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-B\",\"reservationId\":12}")
expect Occupied "$out" "ReserveNow on a reserved connector"
cli start CP-000001 connector=1 id_tag=SOMEONE >"$T/start-other.out" 2>&1 || true
grep -q "reserved for another idTag" "$T/start-other.out" || fail "start with another idTag: $(cat "$T/start-other.out")"
out=$(call CP-000001 RemoteStartTransaction '{"connectorId":1,"idTag":"SOMEONE"}')
expect Rejected "$out" "RemoteStartTransaction with another idTag on a reserved connector"
cli start CP-000001 connector=1 id_tag=RES-A >/dev/null
wait_eval "StartTransaction for RES-A with reservationId 11" 10 \
  "frames_in CP-000001 StartTransaction | jq -s -e 'any(.[]; .idTag == \"RES-A\" and .reservationId == 11)' >/dev/null"
cli stop CP-000001 >/dev/null
cli unplug CP-000001 >/dev/null
out=$(call CP-000001 ReserveNow "{\"connectorId\":2,\"expiryDate\":\"$(iso_in 3)\",\"idTag\":\"RES-C\",\"reservationId\":13}")
expect Accepted "$out" "ReserveNow connector 2 for 3 s"
wait_eval "connector 2 Reserved" 10 '[ "$(last_status CP-000001 2)" = Reserved ]'
wait_eval "connector 2 Available again when the reservation expired" 10 '[ "$(last_status CP-000001 2)" = Available ]'
out=$(call CP-000001 ReserveNow "{\"connectorId\":2,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-D\",\"reservationId\":14}")
expect Accepted "$out" "ReserveNow 14"
wait_eval "connector 2 Reserved (14)" 10 '[ "$(last_status CP-000001 2)" = Reserved ]'
expect Accepted "$(call CP-000001 CancelReservation '{"reservationId":14}')" "CancelReservation 14"
expect Rejected "$(call CP-000001 CancelReservation '{"reservationId":99}')" "CancelReservation of an unknown id"
wait_eval "connector 2 Available after the cancel" 10 '[ "$(last_status CP-000001 2)" = Available ]'
# connector 0: one of the two connectors stays free for RES-Z
out=$(call CP-000002 ReserveNow "{\"connectorId\":0,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-Z\",\"reservationId\":15}")
expect Accepted "$out" "ReserveNow connector 0"
cli start CP-000002 connector=1 id_tag=WALK-IN >/dev/null
wait_eval "a walk-in starts on connector 1" 10 "frames_in CP-000002 StartTransaction | grep -q WALK-IN"
cli start CP-000002 connector=2 id_tag=WALK-IN2 >"$T/start-cp0.out" 2>&1 || true
grep -q "reserved for another idTag" "$T/start-cp0.out" || fail "the last free connector was not kept: $(cat "$T/start-cp0.out")"
cli start CP-000002 connector=2 id_tag=RES-Z >/dev/null
wait_eval "RES-Z starts on connector 2 with reservationId 15" 10 \
  "frames_in CP-000002 StartTransaction | jq -s -e 'any(.[]; .idTag == \"RES-Z\" and .reservationId == 15)' >/dev/null"
cli stop CP-000002 >/dev/null
cli unplug CP-000002 >/dev/null
cli fault CP-000003 connector=1 >/dev/null
wait_eval "CP-000003 connector 1 Faulted" 10 '[ "$(last_status CP-000003 1)" = Faulted ]'
out=$(call CP-000003 ReserveNow "{\"connectorId\":1,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-F\",\"reservationId\":16}")
expect Faulted "$out" "ReserveNow on a Faulted connector"
cli clear CP-000003 connector=1 >/dev/null
# a fault on a reserved connector: Reserved again once it clears
out=$(call CP-000003 ReserveNow "{\"connectorId\":2,\"expiryDate\":\"$(iso_in 120)\",\"idTag\":\"RES-G\",\"reservationId\":17}")
expect Accepted "$out" "ReserveNow CP-000003 connector 2"
wait_eval "CP-000003 connector 2 Reserved" 10 '[ "$(last_status CP-000003 2)" = Reserved ]'
cli fault CP-000003 connector=2 >/dev/null
wait_eval "connector 2 Faulted" 10 '[ "$(last_status CP-000003 2)" = Faulted ]'
cli clear CP-000003 connector=2 >/dev/null
wait_eval "connector 2 Reserved again after the fault cleared" 10 '[ "$(last_status CP-000003 2)" = Reserved ]'
expect Accepted "$(call CP-000003 CancelReservation '{"reservationId":17}')" "CancelReservation 17"
wait_eval "connector 2 Available after the cancel" 10 '[ "$(last_status CP-000003 2)" = Available ]'
log "1: Reserved, only its idTag starts (reservationId in StartTransaction), expiry, cancel, connector 0, Faulted"

# ---- 2. Local Auth List and cache --------------------------------------------------------------
[ "$(call CP-000003 GetLocalListVersion '{}' | jq -r .listVersion)" = 0 ] || fail "GetLocalListVersion before any list"
out=$(call CP-000003 SendLocalList '{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"LOCAL-OK","idTagInfo":{"status":"Accepted"}},{"idTag":"LOCAL-BLK","idTagInfo":{"status":"Blocked"}}]}')
expect Accepted "$out" "SendLocalList Full 1"
expect VersionMismatch "$(call CP-000003 SendLocalList '{"listVersion":1,"updateType":"Differential","localAuthorizationList":[{"idTag":"X"}]}')" \
  "a differential update that is not newer"
out=$(call CP-000003 SendLocalList '{"listVersion":2,"updateType":"Differential","localAuthorizationList":[{"idTag":"LOCAL-NEW","idTagInfo":{"status":"Accepted"}},{"idTag":"LOCAL-BLK"}]}')
expect Accepted "$out" "SendLocalList Differential 2"
[ "$(call CP-000003 GetLocalListVersion '{}' | jq -r .listVersion)" = 2 ] || fail "GetLocalListVersion after version 2"
big=$(jq -cn '{listVersion:3,updateType:"Full",localAuthorizationList:[range(101) | {idTag:"T\(.)",idTagInfo:{status:"Accepted"}}]}')
expect Failed "$(call CP-000003 SendLocalList "$big")" "SendLocalList of 101 entries (SendLocalListMaxLength 100)"
expect Accepted "$(call CP-000003 ChangeConfiguration '{"key":"LocalPreAuthorize","value":"true"}')" "LocalPreAuthorize"
auths=$(count_in CP-000003 Authorize)
cli start CP-000003 connector=2 id_tag=LOCAL-NEW >/dev/null
wait_eval "LOCAL-NEW started from the local list" 10 "frames_in CP-000003 StartTransaction | grep -q LOCAL-NEW"
[ "$(count_in CP-000003 Authorize)" = "$auths" ] || fail "LocalPreAuthorize still sent Authorize for a listed idTag"
cli stop CP-000003 >/dev/null
cli unplug CP-000003 >/dev/null
# the authorize verb fills the cache: an idTag it presented starts without Authorize
cli authorize CP-000003 id_tag=CACHE-OK >/dev/null
wait_eval "Authorize CACHE-OK answered" 10 "frames_in CP-000003 Authorize | grep -q CACHE-OK"
window_until $(( $(now_ms) + 300 ))
auths=$(count_in CP-000003 Authorize)
cli start CP-000003 connector=2 id_tag=CACHE-OK >/dev/null
wait_eval "CACHE-OK started from the cache" 10 "frames_in CP-000003 StartTransaction | grep -q CACHE-OK"
[ "$(count_in CP-000003 Authorize)" = "$auths" ] || fail "an idTag the cache accepts sent Authorize again"
cli stop CP-000003 >/dev/null
cli unplug CP-000003 >/dev/null
# the cache learns CACHE-BLK is Blocked; offline it is refused, an unknown idTag follows
# AllowOfflineTxForUnknownId
cli authorize CP-000003 id_tag=CACHE-BLK >/dev/null
wait_eval "Authorize CACHE-BLK answered" 10 "frames_in CP-000003 Authorize | grep -q CACHE-BLK"
expect Accepted "$(call CP-000003 ChangeConfiguration '{"key":"AllowOfflineTxForUnknownId","value":"false"}')" "AllowOfflineTxForUnknownId"
window_until $(( $(now_ms) + 500 ))   # the change reaches the agent through Redis
cli offline CP-000003 >/dev/null
for tag in CACHE-BLK STRANGER; do
  cli start CP-000003 connector=1 id_tag=$tag >"$T/offline-$tag.out" 2>&1 || true
  grep -q "offline: idTag $tag not authorised locally" "$T/offline-$tag.out" ||
    fail "offline start of $tag: $(cat "$T/offline-$tag.out")"
  cli unplug CP-000003 >/dev/null
done
cli start CP-000003 connector=1 id_tag=LOCAL-OK >/dev/null
cli online CP-000003 >/dev/null
wait_eval "LOCAL-OK's offline transaction delivered" 20 "frames_in CP-000003 StartTransaction | grep -q LOCAL-OK"
frames_in CP-000003 StartTransaction | grep -Eq 'CACHE-BLK|STRANGER' && fail "an idTag refused offline started"
cli stop CP-000003 >/dev/null
cli unplug CP-000003 >/dev/null
expect Accepted "$(call CP-000003 ClearCache '{}')" "ClearCache"
expect Accepted "$(call CP-000003 ChangeConfiguration '{"key":"AllowOfflineTxForUnknownId","value":"true"}')" "AllowOfflineTxForUnknownId back"
window_until $(( $(now_ms) + 500 ))   # the change reaches the agent through Redis
cli offline CP-000003 >/dev/null
cli start CP-000003 connector=1 id_tag=CACHE-BLK >/dev/null
cli online CP-000003 >/dev/null
wait_eval "after ClearCache CACHE-BLK is unknown offline: it starts" 20 "frames_in CP-000003 StartTransaction | grep -q CACHE-BLK"
cli stop CP-000003 >/dev/null
cli unplug CP-000003 >/dev/null
log "2: local list versions, VersionMismatch, Failed over 100, LocalPreAuthorize, offline list and cache, ClearCache"

# ---- 3. Smart Charging --------------------------------------------------------------------------
# readings CHARGER CONN MEASURAND: "epoch_s value" of each MeterValues reading
readings() {
  frames_in "$1" MeterValues | jq -r --argjson c "$2" --arg m "$3" \
    'select(.connectorId == $c) | .meterValue[0] | (.timestamp | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $t | .sampledValue[] | select(.measurand == $m) | "\($t) \(.value)"'
}
power() { readings "$1" "$2" Power.Active.Import | tail -1 | cut -d' ' -f2; }
offered() { readings "$1" "$2" Power.Offered | tail -1 | cut -d' ' -f2; }
n_readings() { readings "$1" "$2" Power.Active.Import | wc -l; }
# power_settles CHARGER CONN WATTS WHAT: the next reading after now shows WATTS
power_settles() {
  local from; from=$(n_readings "$1" "$2")
  wait_eval "$4: $3 W reported" 10 "[ \$(n_readings $1 $2) -gt $((from + 1)) ] && [ \"\$(power $1 $2)\" = $3 ]"
}
profile() {   # ID PURPOSE STACK LIMIT [extra fields]
  echo "{\"chargingProfileId\":$1,\"stackLevel\":$3,\"chargingProfilePurpose\":\"$2\",\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":$4}]}${5:-}}"
}
set_profile() { call "$1" SetChargingProfile "{\"connectorId\":$2,\"csChargingProfiles\":$3}"; }
rcli HSET "$NS:charger:CP-000001" time_scale 60 >/dev/null   # a reading a second is a minute of energy
cli start CP-000001 connector=1 id_tag=SC-1 >/dev/null
wait_eval "SC-1 charging" 10 "frames_in CP-000001 StartTransaction | grep -q SC-1"
power_settles CP-000001 1 22000 "before any profile"
tx=$(jq -r 'select(.dir == "out" and .charger == "CP-000001" and .frame[0] == 3 and .frame[2].transactionId != null) | .frame[2].transactionId' "$T/ocpp.jsonl" | tail -1)
expect Accepted "$(set_profile CP-000001 1 "$(profile 1 TxProfile 0 7000 ",\"transactionId\":$tx")")" "TxProfile 7 kW"
t_set=$(date +%s)
power_settles CP-000001 1 7000 "the TxProfile's 7 kW"
[ "$(offered CP-000001 1)" = 7000 ] || fail "Power.Offered $(offered CP-000001 1), want 7000"
# the energy register follows 7 kW: over the readings after the limit, Wh per simulated hour
wait_eval "three readings at 7 kW" 10 "[ \$(readings CP-000001 1 Energy.Active.Import.Register | awk -v t=$t_set '\$1 > t + 1' | wc -l) -ge 3 ]"
kw=$(readings CP-000001 1 Energy.Active.Import.Register | awk -v t="$t_set" '$1 > t + 1' |
     awk 'NR == 1 {t0 = $1; e0 = $2} {t = $1; e = $2} END {printf "%.2f", (e - e0) / ((t - t0) * 60 / 3600) / 1000}')
awk -v k="$kw" 'BEGIN {exit !(k > 6.5 && k < 7.5)}' || fail "energy grew at $kw kW under a 7 kW limit"
out=$(call CP-000001 GetCompositeSchedule '{"connectorId":1,"duration":600}')
jq -e '.status == "Accepted" and .connectorId == 1 and .chargingSchedule.chargingRateUnit == "W" and .chargingSchedule.chargingSchedulePeriod[0].limit == 7000' \
  <<<"$out" >/dev/null || fail "GetCompositeSchedule: $out"
out=$(call CP-000001 GetCompositeSchedule '{"connectorId":1,"duration":600,"chargingRateUnit":"A"}')
jq -e '.chargingSchedule.chargingRateUnit == "A" and .chargingSchedule.chargingSchedulePeriod[0].limit == 10.1' \
  <<<"$out" >/dev/null || fail "GetCompositeSchedule in A: $out"
expect Accepted "$(call CP-000001 ClearChargingProfile '{"id":1}')" "ClearChargingProfile 1"
expect Unknown "$(call CP-000001 ClearChargingProfile '{"id":99}')" "ClearChargingProfile of an unknown id"
power_settles CP-000001 1 22000 "the charger's own power after the clear"
log "3a: a 7 kW TxProfile: power and energy at $kw kW within a meter interval; composite in W and A; cleared, 22 kW again"
# stacking: TxDefaultProfile level 1 (5 kW for 4 s) over level 0 (11 kW)
now_iso=$(iso_in 0)
expect Accepted "$(set_profile CP-000001 0 "$(profile 2 TxDefaultProfile 0 11000)")" "TxDefaultProfile level 0"
expect Accepted "$(set_profile CP-000001 0 "{\"chargingProfileId\":3,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{\"duration\":4,\"startSchedule\":\"$now_iso\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":5000}]}}")" \
  "TxDefaultProfile level 1 for 4 s"
power_settles CP-000001 1 5000 "the higher stack level"
power_settles CP-000001 1 11000 "level 0 once level 1's 4 s are over"
# the charge point's maximum, shared by the connectors charging
expect Accepted "$(set_profile CP-000001 0 "$(profile 4 ChargePointMaxProfile 0 6000)")" "ChargePointMaxProfile 6 kW"
power_settles CP-000001 1 6000 "one connector under the charge point's 6 kW"
cli start CP-000001 connector=2 id_tag=SC-2 >/dev/null
power_settles CP-000001 1 3000 "two connectors share 6 kW"
[ "$(power CP-000001 2)" = 3000 ] || fail "connector 2: $(power CP-000001 2) W, want 3000"
expect Rejected "$(set_profile CP-000001 1 "$(profile 5 ChargePointMaxProfile 0 1000)")" "ChargePointMaxProfile on connector 1"
expect Accepted "$(call CP-000001 ClearChargingProfile '{"chargingProfilePurpose":"ChargePointMaxProfile"}')" "clear by purpose"
# 0 W suspends, a limit brings it back
expect Accepted "$(set_profile CP-000001 2 "$(profile 6 TxProfile 2 0)")" "TxProfile 0 W"
wait_eval "connector 2 SuspendedEVSE at 0 W" 10 '[ "$(last_status CP-000001 2)" = SuspendedEVSE ]'
expect Accepted "$(set_profile CP-000001 2 "$(profile 6 TxProfile 2 2000)")" "TxProfile 2 kW (same id)"
wait_eval "connector 2 Charging again" 10 '[ "$(last_status CP-000001 2)" = Charging ]'
power_settles CP-000001 2 2000 "connector 2 at 2 kW"
cli stop CP-000001 >/dev/null
cli unplug CP-000001 >/dev/null
expect Rejected "$(set_profile CP-000001 1 "$(profile 7 TxProfile 0 1000)")" "TxProfile without a transaction"
# a RemoteStartTransaction's chargingProfile
out=$(call CP-000001 RemoteStartTransaction "{\"connectorId\":1,\"idTag\":\"SC-R\",\"chargingProfile\":$(profile 8 TxProfile 0 4000)}")
expect Accepted "$out" "RemoteStartTransaction with a TxProfile"
power_settles CP-000001 1 4000 "the remote start's 4 kW profile"
cli stop CP-000001 >/dev/null
cli unplug CP-000001 >/dev/null
expect Accepted "$(call CP-000001 ClearChargingProfile '{}')" "clear everything"
log "3b: stack levels in time, the charge point's maximum shared, 0 W suspends, TxProfile rules, a remote start's profile"

# ---- 4. every TriggerMessage --------------------------------------------------------------------
for m in BootNotification DiagnosticsStatusNotification FirmwareStatusNotification Heartbeat MeterValues StatusNotification; do
  before=$(count_in CP-000002 "$m")
  expect Accepted "$(call CP-000002 TriggerMessage "{\"requestedMessage\":\"$m\",\"connectorId\":1}")" "TriggerMessage $m"
  wait_eval "triggered $m arrived" 10 "[ \$(count_in CP-000002 $m) -gt $before ]"
done
log "4: every requestedMessage of TriggerMessage arrived"

# ---- 5. configuration keys ------------------------------------------------------------------------
out=$(call CP-000002 GetConfiguration '{}')
for k in LocalAuthListEnabled LocalAuthListMaxLength SendLocalListMaxLength ReserveConnectorZeroSupported \
         ChargeProfileMaxStackLevel ChargingScheduleAllowedChargingRateUnit ChargingScheduleMaxPeriods \
         MaxChargingProfilesInstalled LocalPreAuthorize LocalAuthorizeOffline AllowOfflineTxForUnknownId \
         AuthorizationCacheEnabled SupportedFeatureProfiles; do
  jq -e --arg k "$k" '.configurationKey | map(select(.key == $k)) | length == 1' <<<"$out" >/dev/null ||
    fail "GetConfiguration lacks $k"
done
jq -e '.configurationKey | map(select(.key == "SupportedFeatureProfiles"))[0].value | test("Reservation") and test("SmartCharging") and test("LocalAuthListManagement")' \
  <<<"$out" >/dev/null || fail "SupportedFeatureProfiles: $out"
# ---- 6. installed state survives a takeover -------------------------------------------------------
out=$(call CP-000002 ReserveNow "{\"connectorId\":2,\"expiryDate\":\"$(iso_in 300)\",\"idTag\":\"RES-K\",\"reservationId\":21}")
expect Accepted "$out" "ReserveNow before the kill"
expect Accepted "$(call CP-000002 SendLocalList '{"listVersion":7,"updateType":"Full","localAuthorizationList":[{"idTag":"K1","idTagInfo":{"status":"Accepted"}}]}')" \
  "SendLocalList before the kill"
expect Accepted "$(set_profile CP-000002 0 "$(profile 9 TxDefaultProfile 0 9000 | sed 's/"Relative"/"Absolute"/')")" \
  "TxDefaultProfile before the kill"
wait_eval "the installed state saved" 10 \
  "[ -n \"\$(rcli HGET $NS:state:CP-000002 profiles)\" ] && rcli HGET $NS:state:CP-000002 reservations | grep -q RES-K && rcli HGET $NS:state:CP-000002 auth | grep -q K1"
connects() { jq -c --arg c "$1" 'select(.event == "connect" and .charger == $c)' "$T/ocpp.jsonl" | wc -l; }
before=$(connects CP-000002)
kill -KILL "$(rcli HGET "$NS:agent:a1.w0" pid)"
wait_eval "CP-000002 taken over by the restarted worker" 30 "[ \$(connects CP-000002) -gt $before ]"
wait_for "$N connected again" 30 connected_is $N
[ "$(call CP-000002 GetLocalListVersion '{}' | jq -r .listVersion)" = 7 ] || fail "the local list version after the takeover"
wait_eval "connector 2 reported Reserved after the takeover" 10 '[ "$(last_status CP-000002 2)" = Reserved ]'
out=$(call CP-000002 GetCompositeSchedule '{"connectorId":1,"duration":60}')
jq -e '.chargingSchedule.chargingSchedulePeriod[0].limit == 9000' <<<"$out" >/dev/null ||
  fail "the TxDefaultProfile after the takeover: $out"
cli start CP-000002 connector=2 id_tag=RES-K >/dev/null
wait_eval "RES-K uses reservation 21 after the takeover" 10 \
  "frames_in CP-000002 StartTransaction | jq -s -e 'any(.[]; .idTag == \"RES-K\" and .reservationId == 21)' >/dev/null"
power_settles CP-000002 2 9000 "the restored TxDefaultProfile's 9 kW"
log "6: reservation, local list and charging profile kept through a killed worker's takeover"

v=$(jq -c 'select(.event == "violation")' "$T/ocpp.jsonl")
[ -z "$v" ] || fail "schema violations: $(head -5 <<<"$v")"
log "ok: reservation, local list and cache, every trigger, the profiles' keys; $(jq -c 'select(.frame[0] == 2)' "$T/ocpp.jsonl" | wc -l) CALLs both ways, 0 schema violations"
