#!/usr/bin/env bash
# MQTT over TLS against a mosquitto with two TLS listeners and a CA made here with openssl:
# 1. server-authenticated TLS with a user name and password per charger from templates
#    (mosquitto password file), the broker spelled mqtts://;
# 2. a charger given the wrong CA fails the handshake with OpenSSL's reason in the log, and
#    comes back with tls_verify=0; a broker whose certificate names another host is refused;
#    a wrong password is refused;
# 3. mutual TLS: a client certificate per charger from the tls_cert / tls_key templates, the
#    certificate's CN as the broker's user name.
# No password appears in a log or in swarm-cli's output.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed (scripts/deps installs it)"; exit $SKIP; }
command -v mosquitto_passwd >/dev/null || { echo "SKIP: mosquitto_passwd not installed"; exit $SKIP; }

N=6
C=$T/certs
mkdir -p "$C"
tls_ca ca "chargeswarm test CA"
tls_ca other-ca "someone else"
tls_sign server 127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost"
tls_sign elsewhere elsewhere.example "subjectAltName=DNS:elsewhere.example"
for i in $(seq 1 $N); do
  id=$(printf 'CP-%06d' "$i")
  tls_sign "$id" "$id" "extendedKeyUsage=clientAuth"
done
chmod 644 "$C"/*   # mosquitto drops to its own user
for i in $(seq 1 $N); do printf 'CP-%06d:secret-%d\n' "$i" "$i"; done >"$T/passwd"
mosquitto_passwd -U "$T/passwd"
chmod 644 "$T/passwd"

PW_PORT=$(free_port)
MTLS_PORT=$(free_port)
ELSE_PORT=$(free_port)
MOSQ_GLOBAL="per_listener_settings true"
MOSQ_CONF="persistence false
listener $PW_PORT 127.0.0.1
cafile $C/ca.pem
certfile $C/server.pem
keyfile $C/server.key
allow_anonymous false
password_file $T/passwd
listener $MTLS_PORT 127.0.0.1
cafile $C/ca.pem
certfile $C/server.pem
keyfile $C/server.key
require_certificate true
use_identity_as_username true
listener $ELSE_PORT 127.0.0.1
certfile $C/elsewhere.pem
keyfile $C/elsewhere.key
allow_anonymous true"
start_redis
start_mosquitto   # its plain listener stays for the test's own subscriber
mqtt_sub 'chargers/#' "$T/up.txt"   # (anonymous on the plain listener: per-listener defaults)
setup_fleet $N
rcli HSET "$NS:cfg" broker "mqtts://127.0.0.1:$PW_PORT" tls_ca "$C/ca.pem" \
  username '{id}' password 'secret-{index}' >/dev/null
start_coordinator
start_agent a1 1 $N

# --- 1. TLS with user names and passwords -----------------------------------------------------------
wait_for "$N chargers connected over TLS with passwords" 30 connected_is $N
for i in 1 $N; do
  id=$(printf 'CP-%06d' "$i")
  grep -q "New client connected from .* as $id .*u'$id'" "$T/mosquitto.log" ||
    fail "$id: the broker did not log a TLS client with user $id"
done
# The plain listener carries no charger: every charger came in through TLS.
plain=$(grep -E "New connection from .* on port $MQTT_PORT" "$T/mosquitto.log" | wc -l)
log "TLS + password: $N connected (broker mqtts://127.0.0.1:$PW_PORT); $plain connects on the plain listener (test clients)"
wait_for "BootNotification of CP-000001" 10 has_frame "$T/up.txt" chargers/CP-000001/up/BootNotification

# --- 2. wrong CA, no verification, wrong password ---------------------------------------------------
cli config set --charger CP-000002 tls_ca="$C/other-ca.pem" >/dev/null
wait_for "CP-000002: handshake refused with OpenSSL's reason" 20 \
  grep -q "CP-000002: TLS: .*certificate verify failed" "$T/agent-a1.log"
wait_for "$((N - 1)) connected" 10 connected_is $((N - 1))
cli config set --charger CP-000002 tls_verify=0 >/dev/null
wait_for "CP-000002 back with tls_verify=0" 30 connected_is $N
cli config set --charger CP-000004 broker="ssl://127.0.0.1:$ELSE_PORT" >/dev/null
wait_for "CP-000004: a certificate for another host refused" 20 \
  grep -q "CP-000004: connect failed" "$T/agent-a1.log"
# The handshake itself succeeds (the chain is good); the client then checks the name and hangs
# up before CONNECT: no connection to that listener may have become a client.
for addr in $(grep -oE "New connection from [0-9.:]+ on port $ELSE_PORT" "$T/mosquitto.log" | awk '{print $4}'); do
  grep -q "New client connected from $addr " "$T/mosquitto.log" &&
    fail "CP-000004 connected to a broker whose certificate names elsewhere.example"
done
cli config unset --charger CP-000004 broker >/dev/null
wait_for "CP-000004 back" 30 connected_is $N
cli config set --charger CP-000003 password=wrong >/dev/null
wait_for "CP-000003 refused: not authorised" 20 \
  grep -qE "CP-000003: connect failed \(code [0-9-]+: .*(not authorised|bad user name or password)" "$T/agent-a1.log"
cli config unset --charger CP-000003 password >/dev/null
wait_for "CP-000003 back with its own password" 30 connected_is $N
log "wrong CA refused ($(grep -m1 'CP-000002: TLS:' "$T/agent-a1.log" | sed 's/.*TLS: //' | cut -c1-80)), tls_verify=0 accepted, wrong password refused"

# --- 3. mutual TLS -------------------------------------------------------------------------------
cli config unset --charger CP-000002 tls_ca >/dev/null
cli config unset --charger CP-000002 tls_verify >/dev/null
mark=$(wc -l <"$T/mosquitto.log")
rcli HSET "$NS:cfg" broker "ssl://127.0.0.1:$MTLS_PORT" tls_cert "$C/{id}.pem" tls_key "$C/{id}.key" >/dev/null
rcli HDEL "$NS:cfg" username password >/dev/null
mtls() {
  [ "$(tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep -cE "New client connected from .* as CP-[0-9]+ .*u'CP-")" -ge $N ]
}
wait_for "$N chargers reconnected with their own certificates" 30 mtls
wait_for "$N chargers connected" 10 connected_is $N
for i in 1 $N; do
  id=$(printf 'CP-%06d' "$i")
  tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep "New client connected .* as $id .*u'$id'" >/dev/null ||
    fail "$id: the broker did not take $id from its certificate"
done
log "mutual TLS: $N chargers, each with the certificate of its own ID"

# --- no secret in the open -------------------------------------------------------------------------
cli config show CP-000004 >"$T/show.txt"
cli --json config get --charger CP-000003 >>"$T/show.txt" 2>&1 || true
if grep -l -E "secret-[0-9]|wrong" "$T/show.txt" "$T"/agent-*.log "$T"/coordinator.log 2>/dev/null; then
  fail "a password appears in the output or logs above"
fi
log "ok: TLS with passwords, verification failures named, mutual TLS; no password shown"
