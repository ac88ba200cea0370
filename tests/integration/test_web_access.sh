#!/usr/bin/env bash
# Access control of swarm-coordinator's --http and --metrics-listen, over TLS with a test CA
# made here by openssl: users and a token from the config file and the environment (never
# the command line, masked in --print-config and the logs); every role against every endpoint
# (curl); wrong, malformed and missing credentials; a request from another origin; the
# page's session (cookie flags, CSRF token); rate limits per client address; commands logged
# with who sent them; the start-up refusals; a real Prometheus scraping both listeners with
# credentials; and the page driven in headless Chromium: sign in as an operator, send a
# command, see it under the operator's name, sign out, sign in as a viewer (no command line).
for tool in curl openssl; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP: $tool not installed (scripts/deps installs it)"; exit 77; }
done
source "$(dirname "$0")/lib.sh"

# ---- a test CA and a certificate for 127.0.0.1 ----
C=$T/certs
mkdir -p "$C"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key "$C/ca.key"
openssl req -x509 -new -key "$C/ca.key" -subj "/CN=chargeswarm test CA" -days 2 -out "$C/ca.pem" 2>/dev/null
key "$C/server.key"
openssl req -new -key "$C/server.key" -subj "/CN=127.0.0.1" -out "$C/server.csr" 2>/dev/null
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
  -out "$C/server.pem" -extfile <(echo "subjectAltName=IP:127.0.0.1,DNS:localhost") 2>/dev/null
[ -s "$C/server.pem" ] || fail "openssl could not make the test certificate"

# ---- the start-up checks (nothing is bound when they refuse) ----
coord() { env -u SWARM_HTTP_USER -u SWARM_HTTP_TOKEN "$CS_BIN/swarm-coordinator" "$@"; }
out=$(coord --http 0.0.0.0:0 2>&1) && fail "--http 0.0.0.0 without credentials started"
case "$out" in *"takes commands from other hosts"*"http-user = NAME:operator:PASSWORD"*SWARM_HTTP_USER*) ;;
  *) fail "refusal without credentials: $out" ;; esac
out=$(SWARM_HTTP_USER=alice:operator:alice-secret-1 "$CS_BIN/swarm-coordinator" --http :0 2>&1) &&
  fail "--http :0 with credentials and no TLS started"
case "$out" in *"clear text"*http-tls-cert*) ;; *) fail "refusal without TLS: $out" ;; esac
out=$(coord --http 127.0.0.1:0 --http-tls-cert "$C/server.pem" 2>&1) && fail "a certificate without its key"
case "$out" in *"go together"*) ;; *) fail "certificate without key: $out" ;; esac
# Secrets never come from the command line (ps shows it to every user).
out=$(coord --http-user alice:operator:alice-secret-1 --http 127.0.0.1:0 2>&1) && fail "a password on the command line was taken"
case "$out" in *"not taken on the command line"*SWARM_HTTP_USER*) ;; *) fail "password flag: $out" ;; esac
out=$(SWARM_HTTP_USER=alice:root:alice-secret-1 "$CS_BIN/swarm-coordinator" --print-config 2>&1) && fail "role root taken"
case "$out" in *"SWARM_HTTP_USER: user 'alice': role 'root' is not viewer or operator"*) ;; *) fail "bad role: $out" ;; esac
log "start-up refusals ok"

# ---- the coordinator: two users in its config file, a token in its environment, TLS ----
start_redis
start_mosquitto
setup_fleet 10
cat >"$T/coordinator.conf" <<CONF
http-user = alice:operator:alice-secret-1
http-user = victor:viewer:victor-secret-2
http-tls-cert = $C/server.pem
http-tls-key = $C/server.key
CONF
chmod 600 "$T/coordinator.conf"
export SWARM_HTTP_TOKEN=prom:viewer:prometheus-token-0123456789
"$CS_BIN/swarm-coordinator" --config "$T/coordinator.conf" --print-config >"$T/print.txt" 2>&1 ||
  fail "--print-config: $(cat "$T/print.txt")"
grep -q "^http-user  *alice:operator:\*\*\*  *file " "$T/print.txt" || fail "--print-config: $(cat "$T/print.txt")"
grep -q "^http-token  *prom:viewer:\*\*\*  *env SWARM_HTTP_TOKEN" "$T/print.txt" || fail "--print-config token: $(cat "$T/print.txt")"
start_coordinator "" --config "$T/coordinator.conf" --http 127.0.0.1:0 --metrics-listen "127.0.0.1:$(free_port)"
start_agent a1 1 10
wait_for "the dashboard listener" 10 grep -q "dashboard on https://" "$T/coordinator.log"
HPORT=$(sed -n 's|.*dashboard on https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/coordinator.log" | sed -n 1p)
MPORT=$(sed -n 's|.*metrics on https://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$T/coordinator.log" | sed -n 1p)
[ -n "$HPORT" ] && [ -n "$MPORT" ] || fail "listener ports not in the log"
grep -q "HTTP access: user alice (operator), user victor (viewer), token prom (viewer)" "$T/coordinator.log" ||
  fail "access summary not logged"
BASE="https://127.0.0.1:$HPORT" MBASE="https://127.0.0.1:$MPORT"
wait_for "10 chargers connected" 30 connected_is 10

# curl over TLS, checked against the test CA; -sS: errors on stderr, codes on stdout.
tcurl() { curl -sS --max-time 10 --cacert "$C/ca.pem" "$@"; }
code() { tcurl -o /dev/null -w '%{http_code}' "$@" 2>/dev/null; }
[ "$(code "$BASE/")" = 200 ] || fail "GET / over TLS"
curl -s --max-time 5 -o /dev/null "$BASE/" && fail "curl trusted the test certificate without the CA"
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$HPORT/" && fail "plain HTTP answered on the TLS port"
# (Answers go to files before grep: a grep -q that stops early would break the pipe under
# pipefail.)
tcurl -D "$T/h.txt" -o /dev/null "$BASE/api/status" -u alice:alice-secret-1
grep -qi '^strict-transport-security: max-age=' "$T/h.txt" ||
  fail "no HSTS over TLS"
tcurl -D "$T/h.txt" -o /dev/null "$BASE/"
grep -qi "^content-security-policy: default-src 'none'; script-src 'sha256-" "$T/h.txt" ||
  fail "the page's CSP does not pin its script"

# ---- every role against every endpoint ----
# Who: curl's credential options for each (none, wrong, malformed, each user, the token).
declare -A WHO=(
  [none]=""
  [wrong]="-u alice:not-her-password"
  [malformed]="-H Authorization:Digest_x"
  [viewer]="-u victor:victor-secret-2"
  [operator]="-u alice:alice-secret-1"
  [token]="-H Authorization:Bearer_prometheus-token-0123456789"
)
# request: METHOD URL BODY; expected codes for none wrong malformed viewer operator token.
# Wrong credentials are refused wherever they are presented, the page included.
CASES=(
  "GET $BASE/ -                                   200 401 401 200 200 200"
  "GET $BASE/api/session -                        200 401 401 200 200 200"
  "GET $BASE/api/status -                         401 401 401 200 200 200"
  "GET $BASE/api/events -                         401 401 401 200 200 200"
  "GET $BASE/api/commands -                       401 401 401 200 200 200"
  "GET $BASE/metrics -                            401 401 401 200 200 200"
  "GET $MBASE/metrics -                           401 401 401 200 200 200"
  "GET $MBASE/api/status -                        404 404 404 404 404 404"
  "POST $BASE/api/command {\"line\":\"ping\"}     401 401 401 403 200 403"
)
n=0
for row in "${CASES[@]}"; do
  read -r method url body want_none want_wrong want_malformed want_viewer want_operator want_token <<<"$row"
  for who in none wrong malformed viewer operator token; do
    want_var="want_$who"
    # The header options are written with '_' for the blank inside the header value.
    opts=()
    for o in ${WHO[$who]}; do opts+=("${o//_/ }"); done
    # Wrong credentials come from addresses of their own: the rate limit is tried below.
    case $who in wrong|malformed) opts+=(--interface "127.0.1.$n") ;; esac
    if [ "$method" = POST ]; then
      got=$(code "${opts[@]}" -H 'Content-Type: application/json' --data-binary "$body" "$url")
    else
      got=$(code "${opts[@]}" "$url")
    fi
    [ "$got" = "${!want_var}" ] || fail "$who: $method $url: $got, want ${!want_var}"
    n=$((n + 1))
  done
done
log "roles x endpoints: $n requests answered as expected"
tcurl -D "$T/h.txt" -o /dev/null "$BASE/api/status"
grep -qi '^www-authenticate: ' "$T/h.txt" || fail "401 without WWW-Authenticate"
tcurl -o "$T/metrics.txt" "$MBASE/metrics" -H "Authorization: Bearer prometheus-token-0123456789"
grep -q '^chargeswarm_connected 10$' "$T/metrics.txt" ||
  fail "/metrics with the token"

# A command with HTTP Basic: logged as web:alice.
r=$(tcurl -u alice:alice-secret-1 -H 'Content-Type: application/json' --data-binary '{"line":"trigger CP-000002 Heartbeat"}' "$BASE/api/command")
echo "$r" | jq -e '.by == "web:alice" and .done == 1 and .to == "a1.w0"' >/dev/null || fail "alice's command: $r"
entry=$(rcli --raw XREVRANGE "$NS:cmdlog" + - COUNT 1 | tr '\n' ' ')
case "$entry" in *" by web:alice"*) ;; *) fail "cmdlog without alice: $entry" ;; esac

# ---- browsers: another origin, another site, text bodies ----
post() { code -u alice:alice-secret-1 -H 'Content-Type: application/json' --data-binary '{"line":"ping"}' "$@" "$BASE/api/command"; }
[ "$(post -H 'Origin: https://evil.example')" = 403 ] || fail "another origin: not 403"
[ "$(post -H "Origin: http://127.0.0.1:$HPORT")" = 403 ] || fail "http origin on the https listener: not 403"
[ "$(post -H "Origin: https://127.0.0.1:$HPORT")" = 200 ] || fail "our own origin refused"
[ "$(post -H 'Sec-Fetch-Site: cross-site')" = 403 ] || fail "Sec-Fetch-Site: cross-site not refused"
[ "$(code -u alice:alice-secret-1 -H 'Content-Type: text/plain' --data-binary 'ping' "$BASE/api/command")" = 415 ] ||
  fail "text/plain command: not 415"
log "other origins and sites refused, JSON only"

# ---- the page's session: sign in, CSRF token, sign out ----
login() { tcurl -c "$T/jar" -b "$T/jar" -D "$T/login.h" -H 'Content-Type: application/json' --data-binary "$1" "$BASE/api/login"; }
[ "$(code -H 'Content-Type: application/json' --data-binary '{"user":"alice","password":"nope-nope"}' "$BASE/api/login")" = 401 ] ||
  fail "wrong password signed in"
j=$(login '{"user":"alice","password":"alice-secret-1"}')
echo "$j" | jq -e '.user == "alice" and .role == "operator" and .commands == true and (.csrf | length) == 64 and
  .auth == true and .tls == true and (.verbs | index("trigger")) != null and (.verbs | index("assign")) == null' >/dev/null ||
  fail "login: $j"
CSRF=$(echo "$j" | jq -r .csrf)
grep -i '^set-cookie:' "$T/login.h" | grep -i "cs_session_$HPORT=" | grep -i 'httponly' | grep -i 'samesite=strict' |
  grep -qi 'secure' || fail "session cookie flags: $(grep -i set-cookie "$T/login.h")"
scmd() { tcurl -b "$T/jar" -o "$T/scmd.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
  --data-binary '{"line":"trigger CP-000004 Heartbeat"}' "$BASE/api/command"; }
[ "$(scmd)" = 403 ] || fail "a session command without the CSRF token: not 403"
[ "$(scmd -H 'X-CSRF-Token: 0000')" = 403 ] || fail "a wrong CSRF token: not 403"
[ "$(scmd -H "X-CSRF-Token: $CSRF")" = 200 ] || fail "a session command with its token: $(cat "$T/scmd.json")"
jq -e '.by == "web:alice"' "$T/scmd.json" >/dev/null || fail "session command: $(cat "$T/scmd.json")"
[ "$(code -b "$T/jar" "$BASE/api/status")" = 200 ] || fail "the session cookie does not read"
tcurl -b "$T/jar" -c "$T/jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" --data-binary '{}' \
  "$BASE/api/logout" | jq -e .ok >/dev/null || fail "logout"
[ "$(code -b "$T/jar" "$BASE/api/status")" = 401 ] || fail "still signed in after logout"
j=$(login '{"token":"prometheus-token-0123456789"}')
echo "$j" | jq -e '.user == "prom" and .role == "viewer" and .commands == false' >/dev/null || fail "token login: $j"
log "sessions: cookie HttpOnly+Secure+SameSite=Strict, CSRF token required, sign-out ends it"

# ---- rate limits per client address (other loopback addresses: their own buckets) ----
codes=""
for i in $(seq 1 12); do
  codes+="$(code --interface 127.0.0.2 -u alice:wrong-$i "$BASE/api/status") "
done
case "$codes" in "401 401 401 401 401 401 401 401 401 401 429 429 ") ;; *) fail "wrong passwords from one address: $codes" ;; esac
[ "$(code --interface 127.0.0.2 -u alice:alice-secret-1 "$BASE/api/status")" = 429 ] ||
  fail "the right password after 10 wrong ones was not held back"
tcurl --interface 127.0.0.2 -D "$T/h.txt" -o /dev/null -u alice:alice-secret-1 "$BASE/api/status"
grep -qi '^retry-after: [0-9]' "$T/h.txt" ||
  fail "429 without Retry-After"
[ "$(code -u alice:alice-secret-1 "$BASE/api/status")" = 200 ] || fail "another address was held back too"
grep -q "web: wrong credentials from 127.0.0.2, too many" "$T/coordinator.log" || fail "not logged"
# 10 at once, then one a second: of 16 sent as fast as they are answered, the first 10 pass
# and the rest mostly not (one more per second they took).
codes="" t0=$(now_ms)
for i in $(seq 1 16); do
  codes+="$(code --interface 127.0.0.3 -u alice:alice-secret-1 -H 'Content-Type: application/json' \
    --data-binary "{\"line\":\"@rl-$i ping\"}" "$BASE/api/command") "
done
took=$(( $(now_ms) - t0 ))
ok=$(echo "$codes" | tr ' ' '\n' | grep -c '^200$' || true)
case "$codes" in "200 200 200 200 200 200 200 200 200 200 "*) ;; *) fail "16 commands at once: $codes" ;; esac
[ "$ok" -le $(( 10 + took / 1000 + 1 )) ] && [[ $codes == *429* ]] ||
  fail "16 commands in $took ms: $codes"
log "rate limits: 10 wrong credentials, then 429; 10 commands at once, then 429 ($ok of 16 in $took ms)"

# ---- nothing secret in the logs ----
if grep -lE "alice-secret-1|victor-secret-2|prometheus-token-0123456789" "$T"/*.log "$T/print.txt"; then
  fail "a password or token appears in the files above"
fi

# ---- a real Prometheus scraping both listeners with credentials over TLS ----
if command -v prometheus >/dev/null; then
  PPORT=
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: metrics-listener
    scheme: https
    tls_config:
      ca_file: $C/ca.pem
    basic_auth:
      username: victor
      password: victor-secret-2
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
  - job_name: dashboard-listener
    scheme: https
    tls_config:
      ca_file: $C/ca.pem
    authorization:
      type: Bearer
      credentials: prometheus-token-0123456789
    static_configs:
      - targets: ['127.0.0.1:$HPORT']
CONF
    spawn "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
      --storage.tsdb.path="$T/prometheus-data" --web.listen-address="127.0.0.1:$port" --log.level=warn
    if server_up "$LAST_PGID" curl -sf "http://127.0.0.1:$port/-/ready"; then PPORT=$port; break; fi
    kill -TERM -- "-$LAST_PGID" 2>/dev/null || true
  done
  [ -n "$PPORT" ] || fail "prometheus did not start"
  promq() { curl -sf --max-time 5 --get "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1"; }
  wait_eval "Prometheus: both listeners up" 20 '[ "$(promq "sum(up)" | jq -r ".data.result[0].value[1]")" = 2 ]'
  wait_eval "Prometheus: chargeswarm_connected = 10 from both" 10 \
    '[ "$(promq "count(chargeswarm_connected{worker=\"\"} == 10)" | jq -r ".data.result[0].value[1]")" = 2 ]'
  errs=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" | jq -r '.data.activeTargets[] | select(.lastError != "") | .lastError')
  [ -z "$errs" ] || fail "scrape errors: $errs"
  log "Prometheus scraped both listeners over TLS (basic auth, bearer token)"
else
  log "prometheus not installed: scraping with credentials not tried (scripts/deps installs it)"
fi

# ---- the page in Chromium: sign in, command, sign out, sign in as a viewer ----
if command -v chromium >/dev/null && command -v node >/dev/null; then
  # Trust the test certificate by its key only, for this browser only.
  pin=$(openssl x509 -in "$C/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
  rm -f "$T/jar"
  rcli PUBLISH "$NS:events" '{"ts":1,"type":"xss-probe <img src=x onerror=\"window.__xss=1\">"}' >/dev/null
  WEB_LOGIN=alice:alice-secret-1 WEB_VIEWER=victor:victor-secret-2 WEB_EXPECT_BY=web:alice \
    CHROMIUM_ARGS="--ignore-certificate-errors-spki-list=$pin" \
    timeout 60 node "$(dirname "$0")/web_driver.js" "$BASE/" "$T/chromium-profile" "$T/dashboard.png" \
    10 10 'trigger CP-000006 DataTransfer messageId=from-alice' >"$T/driver.jsonl" 2>"$T/driver.log" ||
    fail "web driver: $(tail -20 "$T/driver.log")"
  step() { grep "\"step\":\"$1\"" "$T/driver.jsonl"; }
  step login | head -1 | jq -e '.who == "signed in as alice (operator)"' >/dev/null || fail "login: $(step login)"
  step command | jq -e '.state == "ok" and .summary == "trigger: 1 charger on 1 worker, 1 done, 0 errors"' >/dev/null ||
    fail "page command: $(step command)"
  step commands | jq -e '.ok and .by == "web:alice"' >/dev/null || fail "commands panel: $(step commands)"
  step csp | jq -e '(.violations | length) == 0 and (.cookie_visible | not)' >/dev/null || fail "CSP or cookie: $(step csp)"
  step viewer | jq -e '.panel_hidden and .post_status == 403 and .who == "signed in as victor (viewer)" and
    (.note | contains("operator role"))' >/dev/null || fail "viewer: $(step viewer)"
  log "page: signed in as alice, command by web:alice, signed in as victor: no command line (POST 403)"
else
  log "chromium or node not installed: the page's sign-in not driven (scripts/deps installs them)"
fi
log "ok: roles, TLS, sessions, CSRF, origins, rate limits, Prometheus, the page"
