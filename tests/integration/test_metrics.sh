#!/usr/bin/env bash
# swarm-coordinator --metrics-listen: GET /metrics in the Prometheus text format (checked
# directly and with promtool), scraped every second by a real Prometheus whose HTTP API then
# returns the fleet's connected count and per-worker series; a standby coordinator serves the
# same numbers with chargeswarm_coordinator_leader 0.
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP: $tool not installed (scripts/deps installs the prometheus and curl packages)"; exit 77; }
done
source "$(dirname "$0")/lib.sh"

# The port a coordinator took for --metrics-listen 127.0.0.1:0, from its log.
metrics_port() { sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$1" | sed -n 1p; }
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$1/metrics"; }
# The value of one exact series (name{labels}) in a scrape of port $1.
series() { scrape "$1" | awk -v s="$2" '$1 == s { print $2 }'; }

start_redis
start_mosquitto
start_csms
setup_fleet 20
start_coordinator "" --metrics-listen 127.0.0.1:0
start_agent a1 2 20
wait_for "the metrics listener" 10 grep -q "metrics on http://" "$T/coordinator.log"
MPORT=$(metrics_port "$T/coordinator.log")
[ -n "$MPORT" ] || fail "no metrics port in the coordinator's log"
wait_for "20 chargers connected" 30 connected_is 20
wait_eval "/metrics shows 20 connected" 10 '[ "$(series $MPORT chargeswarm_connected)" = 20 ]'
log "coordinator /metrics on port $MPORT"

# ---- the format, read directly ----
curl -sf -D "$T/headers.txt" -o "$T/metrics.txt" "http://127.0.0.1:$MPORT/metrics" || fail "GET /metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers.txt" ||
  fail "content type: $(grep -i content-type "$T/headers.txt")"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.txt" 2>&1 ||
  fail "promtool check metrics: $(head -20 "$T/promtool.txt")"
# Every sample line: name, optional {label="value",...} with escaped values, a number.
bad=$(grep -v '^#' "$T/metrics.txt" |
  grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (-?[0-9.]+(e[-+]?[0-9]+)?|\+Inf|NaN)$' || true)
[ -z "$bad" ] || fail "malformed sample lines: $(echo "$bad" | sed -n 1,5p)"
# Every family has HELP and TYPE before its samples; counters end in _total.
awk '
  /^# HELP / { help[$3] = 1; next }
  /^# TYPE / { if (!help[$3]) { print "TYPE without HELP: " $3; bad = 1 }
               type[$3] = $4; if ($4 == "counter" && $3 !~ /_total$/) { print "counter " $3; bad = 1 }
               next }
  /^#/ { next }
  { n = $1; sub(/\{.*/, "", n); base = n; sub(/_(bucket|sum|count)$/, "", base)
    if (!(n in type) && !(type[base] == "histogram")) { print "no TYPE for " n; bad = 1 } }
  END { exit bad }' "$T/metrics.txt" || fail "HELP/TYPE lines missing (above)"
for s in 'chargeswarm_coordinator_leader 1' 'chargeswarm_workers 2' 'chargeswarm_fleet_size 20' \
  'chargeswarm_assigned 20' 'chargeswarm_connected{worker="a1.w0"} 10' \
  'chargeswarm_connected{worker="a1.w1"} 10' 'chargeswarm_capacity 40'; do
  grep -qxF "$s" "$T/metrics.txt" || fail "no line '$s' in /metrics"
done
grep -q '^# TYPE chargeswarm_ack_latency_seconds histogram$' "$T/metrics.txt" || fail "no ack histogram"
inf=$(awk '$1 == "chargeswarm_ack_latency_seconds_bucket{le=\"+Inf\"}" { print $2 }' "$T/metrics.txt")
cnt=$(awk '$1 == "chargeswarm_ack_latency_seconds_count" { print $2 }' "$T/metrics.txt")
[ -n "$inf" ] && [ "$inf" = "$cnt" ] && [ "$cnt" -ge 20 ] || fail "ack histogram: +Inf bucket $inf, count $cnt"
log "format ok: $(grep -c '^# TYPE' "$T/metrics.txt") families, $(grep -vc '^#' "$T/metrics.txt") series; promtool clean"

# Per action: the fleet's OCPP CALLs, answers and response times, labels direction and action.
grep -q '^chargeswarm_ocpp_calls_total{direction="up",action="BootNotification"} [0-9]' "$T/metrics.txt" ||
  fail "no BootNotification CALLs: $(grep ocpp_calls "$T/metrics.txt" | head -3)"
grep -q '^# TYPE chargeswarm_ocpp_response_seconds histogram$' "$T/metrics.txt" || fail "no per-action histogram"
boots=$(awk '$1 == "chargeswarm_ocpp_response_seconds_count{direction=\"up\",action=\"BootNotification\"}" { print $2 }' "$T/metrics.txt")
[ "${boots:-0}" -ge 20 ] || fail "BootNotification response times: ${boots:-none}"
! grep -q 'chargeswarm_ocpp_calls_total{worker=' "$T/metrics.txt" || fail "per-action series per worker"
log "per action: $(grep -c '^chargeswarm_ocpp_' "$T/metrics.txt") series, $boots BootNotification answers timed"

# Per-type counters follow a command: one DataTransfer from CP-000003 (index 3: worker a1.w0).
dt='chargeswarm_messages_out_total{worker="a1.w0",type="DataTransfer"}'
before=$(series "$MPORT" "$dt")
cli trigger CP-000003 DataTransfer messageId=from-metrics >/dev/null || fail "trigger"
wait_eval "the DataTransfer counted in /metrics" 10 '[ "$(series $MPORT "$dt")" -gt "${before:-0}" ]'
[ "$(series "$MPORT" 'chargeswarm_messages_out_total{type="DataTransfer"}')" -ge 1 ] || fail "fleet DataTransfer count"

# ---- a standby serves its own reads ----
start_coordinator 2 --metrics-listen 127.0.0.1:0
wait_for "the standby's metrics listener" 10 grep -q "metrics on http://" "$T/coordinator2.log"
SPORT=$(metrics_port "$T/coordinator2.log")
wait_eval "the standby's /metrics shows 20 connected" 10 '[ "$(series $SPORT chargeswarm_connected)" = 20 ]'
[ "$(series "$SPORT" chargeswarm_coordinator_leader)" = 0 ] || fail "the standby claims to lead"
[ "$(series "$SPORT" 'chargeswarm_connected{worker="a1.w1"}')" = 10 ] || fail "the standby's worker series"

# ---- a real Prometheus scraping both every second ----
PPORT=
for _ in 1 2 3 4 5; do
  port=$(free_port)
  cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: chargeswarm
    static_configs:
      - targets: ['127.0.0.1:$MPORT', '127.0.0.1:$SPORT']
CONF
  spawn "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/prometheus-data" --web.listen-address="127.0.0.1:$port" --log.level=warn
  if server_up "$LAST_PGID" curl -sf "http://127.0.0.1:$port/-/ready"; then PPORT=$port; break; fi
  kill -TERM -- "-$LAST_PGID" 2>/dev/null || true
done
[ -n "$PPORT" ] || fail "prometheus did not start"
log "prometheus on port $PPORT"
promq() { curl -sf --max-time 5 --get "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1"; }
# Value of the series of QUERY whose labels satisfy the jq condition SELECT.
promv() { promq "$1" | jq -r ".data.result[] | select($2) | .value[1]" | sed -n 1p; }

wait_eval "Prometheus: the leader's fleet series chargeswarm_connected = 20" 20 \
  '[ "$(promv chargeswarm_connected "(.metric.worker | not) and .metric.instance == \"127.0.0.1:$MPORT\"")" = 20 ]'
wait_eval "Prometheus: per-worker chargeswarm_connected{worker=\"a1.w0\"} = 10" 10 \
  '[ "$(promv chargeswarm_connected ".metric.worker == \"a1.w0\" and .metric.instance == \"127.0.0.1:$MPORT\"")" = 10 ]'
wait_eval "Prometheus: both targets up" 10 '[ "$(promq "sum(up{job=\"chargeswarm\"})" | jq -r ".data.result[0].value[1]")" = 2 ]'
# The README's recipe: fleet totals from whichever coordinator leads (no double count).
v=$(promv 'chargeswarm_connected{worker=""} and on(instance) (chargeswarm_coordinator_leader == 1)' 'true')
[ "$v" = 20 ] || fail "leader-only fleet query gave '$v'"
n=$(promq 'chargeswarm_connected{worker=""} and on(instance) (chargeswarm_coordinator_leader == 1)' | jq '.data.result | length')
[ "$n" = 1 ] || fail "leader-only fleet query returned $n series"
# Histograms work with PromQL.
q=$(promv 'histogram_quantile(0.5, sum by (le) (chargeswarm_ack_latency_seconds_bucket{worker!=""}))' 'true')
[ -n "$q" ] && [ "$q" != NaN ] || fail "histogram_quantile over the workers' ack buckets gave '$q'"
errs=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" | jq -r '.data.activeTargets[] | select(.lastError != "") | .lastError')
[ -z "$errs" ] || fail "scrape errors: $errs"
log "ok: Prometheus scraped the leader and the standby; fleet 20 connected, per-worker series, ack p50 ${q}s"
