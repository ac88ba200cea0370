#!/usr/bin/env bash
# OCPP-J over WebSocket against a real CSMS library: ocpp_csms.js, built on the npm package
# ocpp-rpc in strict mode, checks every frame in both directions against the OCPP 1.6 schemas.
# 1. A WebSocket fleet boots, reports, runs a transaction and answers the platform's CALLs
#    (Reset, RemoteStart/Stop, GetConfiguration, ChangeConfiguration, TriggerMessage...): 0
#    schema violations.
# 2. A dropped connection comes back; a charger moved by a config layer between MQTT and
#    WebSocket: one fleet, two transports.
# 3. Basic auth (security profile 1): the right password connects, a wrong one is refused
#    with HTTP 401 in the log; ChangeConfiguration AuthorizationKey sets the password used at
#    the next connect.
# 4. A server that accepts the upgrade without the subprotocol ocpp1.6 is refused.
# 5. wss:// with a test CA (security profile 2), a server certificate for another host refused,
#    and a client certificate per charger (profile 3, its CN seen by the server).
# 6. Shared with MQTT: the offline queue (a transaction's MeterValues made while offline arrive
#    after it), and a worker killed mid-transaction: its restart takes the charger over and
#    ends the transaction with reason PowerLoss.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocpp_csms_setup.sh"
ocpp_csms_deps || exit $?

N=4
# start_ocpp NAME [flags]: a CSMS on a free port; sets WS_PORT and CTL_PORT.
start_ocpp() {
  local name=$1; shift
  WS_PORT=$(free_port); CTL_PORT=$(free_port)
  spawn "$T/$name.out" node "$OCPP_CSMS_JS" --port "$WS_PORT" --ctl-port "$CTL_PORT" \
    --log "$T/$name.jsonl" --heartbeat 30 "$@"
  wait_for "$name ready" 20 grep -q "ready" "$T/$name.out"
}
ctl() { curl -sS -m 15 -X POST "http://127.0.0.1:$1/$2" -H 'Content-Type: application/json' -d "$3"; }
call() { ctl "$CSMS_CTL" call "{\"charger\":\"$1\",\"method\":\"$2\",\"params\":$3}"; }
frames_in() { jq -c --arg c "$1" --arg m "$2" 'select(.dir == "in" and .charger == $c and .frame[0] == 2 and .frame[2] == $m)' "$T/ocpp.jsonl"; }
count_in() { frames_in "$1" "$2" | wc -l; }
connects() { jq -c --arg c "$2" 'select(.event == "connect" and .charger == $c)' "$T/$1.jsonl" | wc -l; }
violations() { jq -c 'select(.event == "violation")' "$T/ocpp.jsonl"; }
has_line() { [ -n "$(jq -c "select($2)" "$1" 2>/dev/null)" ]; }   # FILE FILTER

start_redis
start_ocpp ocpp
CSMS_PORT=$WS_PORT CSMS_CTL=$CTL_PORT
rcli HSET "$NS:cfg" broker "ws://127.0.0.1:$CSMS_PORT/ocpp" heartbeat_s 5 meter_s 2 >/dev/null
rcli HSET "$NS:fleet" size $N >/dev/null
start_coordinator
start_agent a1 1 $((N + 2))
wait_for "$N WebSocket chargers connected" 30 connected_is $N
for i in $(seq 1 $N); do
  id=$(printf 'CP-%06d' "$i")
  wait_eval "$id booted and reported its connectors" 15 \
    "[ \$(count_in $id BootNotification) -ge 1 ] && [ \$(count_in $id StatusNotification) -ge 2 ]"
done
[ "$(jq -r 'select(.event == "connect") | .protocol' "$T/ocpp.jsonl" | sort -u)" = ocpp1.6 ] ||
  fail "subprotocol: $(jq -r 'select(.event == "connect") | .protocol' "$T/ocpp.jsonl" | sort -u)"

# ---- 1. both directions ----------------------------------------------------------------------
cli start CP-000001 >/dev/null
wait_eval "CP-000001: StartTransaction and MeterValues of it" 15 \
  "[ \$(count_in CP-000001 StartTransaction) = 1 ] && frames_in CP-000001 MeterValues | grep -q transactionId"
cli trigger '*' DataTransfer vendorId=chargeswarm >/dev/null
cli trigger CP-000002 Authorize >/dev/null
wait_eval "DataTransfer from every charger, an Authorize" 15 \
  "[ \$(jq -c 'select(.dir == \"in\" and .frame[2] == \"DataTransfer\")' '$T/ocpp.jsonl' | wc -l) -ge $N ] && [ \$(count_in CP-000002 Authorize) -ge 1 ]"
cli stop CP-000001 >/dev/null
wait_eval "CP-000001: StopTransaction" 15 "[ \$(count_in CP-000001 StopTransaction) = 1 ]"

out=$(call CP-000003 RemoteStartTransaction '{"connectorId":1,"idTag":"REMOTE-1"}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "RemoteStartTransaction: $out"
wait_eval "CP-000003: StartTransaction for REMOTE-1" 15 "frames_in CP-000003 StartTransaction | grep -q REMOTE-1"
tx=$(jq -r 'select(.dir == "out" and .frame[0] == 3 and .frame[2].transactionId != null) | .frame[2].transactionId' \
     "$T/ocpp.jsonl" | tail -1)
out=$(call CP-000003 RemoteStopTransaction "{\"transactionId\":$tx}")
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "RemoteStopTransaction $tx: $out"
wait_eval "CP-000003: StopTransaction $tx" 15 "frames_in CP-000003 StopTransaction | grep -q '\"transactionId\":$tx'"

out=$(call CP-000004 GetConfiguration '{}')
jq -e '.configurationKey | map(select(.key == "WebSocketPingInterval"))[0].value == "60"' <<<"$out" >/dev/null ||
  fail "GetConfiguration: no WebSocketPingInterval 60: $out"
jq -e '.configurationKey | map(select(.key == "AuthorizationKey"))[0] | has("value") | not' <<<"$out" >/dev/null ||
  fail "GetConfiguration shows the AuthorizationKey: $out"
out=$(call CP-000004 ChangeConfiguration '{"key":"HeartbeatInterval","value":"3"}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "ChangeConfiguration HeartbeatInterval: $out"
out=$(call CP-000004 TriggerMessage '{"requestedMessage":"StatusNotification","connectorId":1}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "TriggerMessage: $out"
out=$(call CP-000004 ChangeAvailability '{"connectorId":1,"type":"Inoperative"}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "ChangeAvailability: $out"
wait_eval "CP-000004: Unavailable reported" 10 "frames_in CP-000004 StatusNotification | grep -q Unavailable"
out=$(call CP-000004 UnlockConnector '{"connectorId":1}')
jq -e '.status' <<<"$out" >/dev/null || fail "UnlockConnector: $out"
out=$(call CP-000004 ClearCache '{}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "ClearCache: $out"
rcli HSET "$NS:charger:CP-000004" time_scale 10 >/dev/null   # the upload's 5 s take 0.5 s
out=$(call CP-000004 GetDiagnostics '{"location":"ftp://diag.example/upload/"}')
jq -e '.fileName | test("^diagnostics-CP-000004-.*\\.log$")' <<<"$out" >/dev/null || fail "GetDiagnostics: $out"
diag() { frames_in CP-000004 DiagnosticsStatusNotification | jq -r '.frame[3].status' | paste -sd, -; }
wait_eval "CP-000004: DiagnosticsStatusNotification Uploading, then Uploaded" 10 '[ "$(diag)" = Uploading,Uploaded ]'
out=$(call CP-000004 TriggerMessage '{"requestedMessage":"DiagnosticsStatusNotification"}')
wait_eval "CP-000004: Idle once the upload is done" 10 '[ "$(diag)" = Uploading,Uploaded,Idle ]'
boots=$(count_in CP-000002 BootNotification)
out=$(call CP-000002 Reset '{"type":"Soft"}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "Reset: $out"
wait_eval "CP-000002 booted again after Reset" 20 "[ \$(count_in CP-000002 BootNotification) -gt $boots ]"
wait_for "all $N connected after the Reset" 20 connected_is $N
[ -z "$(violations)" ] || fail "schema violations: $(violations | head -5)"
log "1: $(jq -c 'select(.frame[0] == 2)' "$T/ocpp.jsonl" | wc -l) CALLs both ways, 0 schema violations"

# ---- 2. a dropped connection comes back; one fleet on two transports --------------------------
before=$(connects ocpp CP-000004)
ctl "$CSMS_CTL" drop '{"charger":"CP-000004"}' >/dev/null
wait_eval "CP-000004 reconnected after the drop" 20 "[ \$(connects ocpp CP-000004) -gt $before ]"
wait_for "all $N connected after the drop" 20 connected_is $N
before=$(connects ocpp CP-000004)
ctl "$CSMS_CTL" close '{"charger":"CP-000004","code":1001}' >/dev/null
wait_eval "CP-000004 back after the server closed its WebSocket" 20 "[ \$(connects ocpp CP-000004) -gt $before ]"
jq -e -s 'map(select(.event == "disconnect" and .charger == "CP-000004" and .code == 1001)) | length >= 1' \
  "$T/ocpp.jsonl" >/dev/null || fail "the close handshake did not end with 1001 at the server"
wait_for "all $N connected after the close" 20 connected_is $N

start_mosquitto
start_csms
cli config set --select CP-000001,CP-000002 --layer to-mqtt "broker=tcp://127.0.0.1:$MQTT_PORT" >/dev/null ||
  fail "a layer moving two chargers to MQTT"
mqtt_boots() { jq -r 'select(.dir == "in" and (.frame | type) == "array" and .frame[2] == "BootNotification") | .charger' "$T/csms.jsonl" | sort -u | paste -sd, -; }
wait_eval "CP-000001 and CP-000002 booted over MQTT" 30 '[ "$(mqtt_boots)" = CP-000001,CP-000002 ]'
wait_for "all $N connected on two transports" 20 connected_is $N
log "2: a dropped WebSocket and one closed by the server came back; two chargers moved to MQTT by a layer, two stayed on WebSocket"
cli config layer rm to-mqtt >/dev/null || fail "config layer rm to-mqtt"

# ---- 3. Basic auth ----------------------------------------------------------------------------
start_ocpp auth --auth '{id}:s3cret-key-0123456789'
AUTH_PORT=$WS_PORT
out=$(call CP-000003 ChangeConfiguration '{"key":"AuthorizationKey","value":"s3cret-key-0123456789"}')
[ "$(jq -r .status <<<"$out")" = Accepted ] || fail "ChangeConfiguration AuthorizationKey: $out"
[ "$(rcli HGET "$NS:charger:CP-000003" password)" = s3cret-key-0123456789 ] ||
  fail "the AuthorizationKey is not CP-000003's password override"
rcli HSET "$NS:charger:CP-000003" broker "ws://127.0.0.1:$AUTH_PORT/ocpp" username '{id}' >/dev/null
rcli HSET "$NS:charger:CP-000004" broker "ws://127.0.0.1:$AUTH_PORT/ocpp" username '{id}' password wrong >/dev/null
wait_eval "CP-000003 connected with Basic auth" 20 "[ \$(connects auth CP-000003) -ge 1 ]"
wait_for "CP-000004 refused: HTTP 401" 20 grep -q "CP-000004: connect failed.*HTTP 401" "$T/agent-a1.log"
[ "$(connects auth CP-000004)" = 0 ] || fail "CP-000004 connected with a wrong password"
log "3: Basic auth: the AuthorizationKey set by ChangeConfiguration connects, a wrong password gets HTTP 401"

# ---- 4. a server that ignores the subprotocol ---------------------------------------------------
start_ocpp nosub --no-subprotocol
rcli HSET "$NS:charger:CP-000004" broker "ws://127.0.0.1:$WS_PORT/ocpp" username '' password '' >/dev/null
wait_for "CP-000004 refused the server without a subprotocol" 20 \
  grep -q "CP-000004: connect failed.*without the subprotocol ocpp1.6" "$T/agent-a1.log"
! has_line "$T/nosub.jsonl" '.dir == "in"' || fail "a frame was sent to the server without the subprotocol"
log "4: a server that accepted the upgrade without ocpp1.6 was refused"

# ---- 5. TLS ----------------------------------------------------------------------------------------
C=$T/certs
mkdir -p "$C"
tls_ca ca "chargeswarm test CA"
tls_sign server 127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost"
tls_sign elsewhere elsewhere.example "subjectAltName=DNS:elsewhere.example"
for id in CP-000001 CP-000002; do tls_sign "$id" "$id" "extendedKeyUsage=clientAuth"; done
start_ocpp tls --tls-cert "$C/server.pem" --tls-key "$C/server.key"
TLS_PORT=$WS_PORT
start_ocpp mtls --tls-cert "$C/server.pem" --tls-key "$C/server.key" --tls-ca "$C/ca.pem"
MTLS_PORT=$WS_PORT
start_ocpp other --tls-cert "$C/elsewhere.pem" --tls-key "$C/elsewhere.key"
OTHER_PORT=$WS_PORT
rcli HSET "$NS:charger:CP-000003" broker "wss://127.0.0.1:$TLS_PORT/ocpp" tls_ca "$C/ca.pem" >/dev/null
rcli HSET "$NS:charger:CP-000004" broker "wss://127.0.0.1:$OTHER_PORT/ocpp" tls_ca "$C/ca.pem" >/dev/null
rcli HSET "$NS:charger:CP-000001" broker "wss://127.0.0.1:$MTLS_PORT/ocpp" tls_ca "$C/ca.pem" \
  tls_cert "$C/{id}.pem" tls_key "$C/{id}.key" >/dev/null
wait_eval "CP-000003 over wss:// (Basic auth kept)" 20 "[ \$(connects tls CP-000003) -ge 1 ]"
has_line "$T/tls.jsonl" '.event == "connect" and .charger == "CP-000003" and .tls' ||
  fail "the wss:// connect is not TLS: $(cat "$T/tls.jsonl" | head -3)"
wait_eval "CP-000001 with its client certificate" 20 \
  "has_line '$T/mtls.jsonl' '.event == \"connect\" and .charger == \"CP-000001\" and .cert_cn == \"CP-000001\"'"
wait_for "CP-000004 refused a certificate for another host" 20 \
  grep -Eq "CP-000004: connect failed.*(certificate verify failed|hostname mismatch)" "$T/agent-a1.log"
[ "$(connects other CP-000004)" = 0 ] || fail "CP-000004 accepted a certificate for elsewhere.example"
# ---- 6. offline queue, takeover -----------------------------------------------------------------
cli start CP-000002 >/dev/null
wait_eval "CP-000002: a transaction" 15 "frames_in CP-000002 StartTransaction | grep -q TAG-2"
t_off=$(date -u +%Y-%m-%dT%H:%M:%S)
cli offline CP-000002 seconds=4 >/dev/null
window_until $(( $(now_ms) + 3000 ))
t_on=$(date -u +%Y-%m-%dT%H:%M:%S)
offline_meter() {   # MeterValues of the transaction stamped while CP-000002 was offline
  frames_in CP-000002 MeterValues | jq -r 'select(.frame[3].transactionId != null) | .frame[3].meterValue[0].timestamp' |
    awk -v a="$t_off" -v b="$t_on" '$1 > a && $1 < b' | wc -l
}
wait_eval "CP-000002: MeterValues made offline delivered after it" 20 '[ "$(offline_meter)" -ge 1 ]'
before=$(connects ocpp CP-000002)
pid=$(rcli HGET "$NS:agent:a1.w0" pid)
kill -KILL "$pid"
wait_eval "CP-000002 taken over by the restarted worker" 30 "[ \$(connects ocpp CP-000002) -gt $before ]"
wait_eval "CP-000002: StopTransaction PowerLoss after the takeover" 20 \
  "frames_in CP-000002 StopTransaction | grep -q PowerLoss"
log "6: $(offline_meter) MeterValues made offline arrived after it; a killed worker's charger ended its transaction with PowerLoss"

for f in ocpp auth tls mtls; do
  [ -z "$(jq -c 'select(.event == "violation")' "$T/$f.jsonl")" ] ||
    fail "schema violations at $f: $(jq -c 'select(.event == "violation")' "$T/$f.jsonl" | head -3)"
done
log "ok: OCPP-J over WebSocket against ocpp-rpc in strict mode: both directions, drop, mixed transports, Basic auth, subprotocol, wss:// and client certificates, 0 schema violations"
