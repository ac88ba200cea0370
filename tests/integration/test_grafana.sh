#!/usr/bin/env bash
# grafana/: the dashboard can never reference a Redis key or field that does not exist. A real
# swarm (50 chargers, a platform that answers, a trigger and a config change) runs under a
# non-default namespace; then every query of every panel of grafana/dashboards/chargeswarm.json
# (repeats expanded over the workers listed in {ns}:agents, as Grafana resolves $worker) is
# translated into the Redis command the redis-datasource plugin runs and run with redis-cli, as
# the read-only ACL user grafana/README.md documents. Each must return the numbers its panel
# shows, through the panel's transformations (grafana/check_dashboard.py). Also: the JSON is
# what grafana/gen_dashboard.py writes, every panel uses the provisioned data source, and the
# README describes every panel.
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
source "$(dirname "$0")/lib.sh"

G=$(cd "$(dirname "$0")/../../grafana" && pwd)
DASH=$G/dashboards/chargeswarm.json

# ---- static checks: no servers needed ----
jq empty "$DASH" 2>"$T/jq.err" || fail "$DASH is not valid JSON: $(cat "$T/jq.err")"
python3 "$G/gen_dashboard.py" --check || fail "grafana/dashboards/chargeswarm.json is out of date"
[ "$(jq -r '.templating.list[] | select(.name == "namespace") | .query' "$DASH")" = swarm ] ||
  fail "the namespace variable does not default to swarm"
hard=$(jq -r '.. | objects | .keyName? // empty | select(test("\\$namespace") | not)' "$DASH")
[ -z "$hard" ] || fail "keys without \$namespace in the dashboard: $hard"
python3 "$G/check_dashboard.py" --static-only >"$T/static.txt" 2>&1 || fail "static checks: $(cat "$T/static.txt")"
log "dashboard JSON, data source references and README: ok"

# ---- a swarm under another namespace: nothing may be hard-wired to swarm: ----
NS=gfx
export SWARM_NAMESPACE=$NS
start_redis
start_mosquitto
setup_fleet 50 stats_interval_ms 500 history_interval_s 1
rcli HSET "$NS:cfg" heartbeat_s 1 >/dev/null
start_csms --interval 1   # BootNotification.conf sets the heartbeat: keep it at 1 s
start_coordinator
start_agent a1 2 50
wait_for "50 chargers connected" 30 connected_is 50
cli trigger '*' MeterValues >"$T/trigger.txt" || fail "trigger: $(cat "$T/trigger.txt")"
cli config set meter_s=30 >/dev/null || fail "config set meter_s=30"
# Sessions, for the actions the per-action panels show (Authorize ... StopTransaction).
cli start '*' >/dev/null || true
wait_eval "sessions started" 15 '[ "$(rcli HGET "$NS:stats" conf.StartTransaction.answered)" -ge 50 ]'
cli stop '*' >/dev/null || true
wait_eval "sessions stopped" 15 '[ "$(rcli HGET "$NS:stats" conf.StopTransaction.answered)" -ge 50 ]'
n0=$(rcli XLEN "$NS:history")
wait_eval "3 more entries in $NS:history" 10 "[ \"\$(rcli XLEN $NS:history)\" -ge $((n0 + 3)) ]"

# Every latency histogram has samples and the streams hold a few entries since the traffic.
fleet() { rcli HGET "$NS:stats" "$1"; }
samples() { for h in ack cmd cfg conf; do [ "$(fleet ${h}_count)" -gt 0 ] || return 1; done; }
wait_for "samples in the ack, cmd, cfg and conf histograms of $NS:stats" 15 samples
n0=$(rcli XLEN "$NS:ts")
wait_eval "4 more entries in $NS:ts" 10 "[ \"\$(rcli XLEN $NS:ts)\" -ge $((n0 + 4)) ]"
for w in $(rcli ZRANGE "$NS:agents" 0 -1); do
  wait_eval "entries in $NS:ts:$w" 5 "[ \"\$(rcli XLEN $NS:ts:$w)\" -ge 3 ]"
done
log "fleet $(fleet connected)/$(fleet fleet_size) connected, msgs_out $(fleet msgs_out), $(rcli XLEN "$NS:ts") entries in $NS:ts"

# The read-only user of grafana/README.md, for our namespace.
acl=$(grep -m1 '^ACL SETUSER swarm-grafana ' "$G/README.md") || fail "no 'ACL SETUSER swarm-grafana' line in grafana/README.md"
acl=${acl//swarm:/$NS:}
acl=${acl//GRAFANA-PASSWORD/grafana-test-pw}
read -ra acl_args <<<"$acl"
[ "$(rcli "${acl_args[@]}")" = OK ] || fail "could not create the ACL user: $acl"

python3 "$G/check_dashboard.py" -v \
  --redis-cli "redis-cli -p $REDIS_PORT --user swarm-grafana --pass grafana-test-pw --no-auth-warning" \
  --var "namespace=$NS" \
  --positive 'Chargers=connected' --positive 'Messages/s now=sent' \
  --positive 'Messages/s=sent' --positive 'Messages/s=received' \
  --positive 'Messages/s by type=Heartbeat' --positive 'Messages/s by type=MeterValues' \
  --positive 'Latency now=conf_win_p50_ms' --positive '$worker: messages/s=sent' \
  --positive 'Requests/s by action=StartTransaction' \
  >"$T/check.txt" 2>&1 || { cat "$T/check.txt"; fail "the dashboard's queries (above)"; }
cat "$T/check.txt"
log "ok: every query of every panel returns the numbers it shows"
