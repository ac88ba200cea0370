#!/usr/bin/env bash
# A Redis that requires authentication, with the ACL users docs/security.md describes: agents,
# the coordinator and operators each log in as their own user with only the commands, keys and
# channels their role needs (the default user gets a password). The swarm runs, takes config
# edits live and answers commands; an agent with a wrong password says so and keeps trying
# without crashing; no password reaches a log or --print-config.
source "$(dirname "$0")/lib.sh"

N=20
start_redis
start_mosquitto
# The users, as in docs/security.md (namespace swarm, db 0).
acl() { rcli ACL SETUSER "$@" >/dev/null || fail "ACL SETUSER $1 refused"; }
acl swarm-agent on '>agent-pw' resetkeys '%R~swarm:*' '~swarm:agent:*' '~swarm:agents' \
  '~swarm:state:*' '~swarm:stats:*' '~swarm:ts:*' '~swarm:charger:*' \
  resetchannels '&swarm:*' '&__keyspace@0__:swarm:*' '&__keyspace@0__:swarm:charger:*' \
  '&__keyspace@0__:swarm:cfg:layer:*' \
  -@all +@connection +client\|setname +config\|get +info +hgetall +hmget +hget +hset +hdel \
  +del +expire +pexpire +zadd +zrem +zrange +exists +publish +xadd +xrange +xrevrange \
  +subscribe +psubscribe +unsubscribe +punsubscribe
acl swarm-coordinator on '>coord-pw' resetkeys '%R~swarm:*' '~swarm:coordinator' \
  '~swarm:coordinator:id:*' '~swarm:assign' \
  '~swarm:agents' '~swarm:stats' '~swarm:ts' '~swarm:eventlog' '~swarm:cmdlog' \
  '~swarm:history' '~swarm:totals:*' resetchannels '&swarm:*' \
  -@all +@connection +client\|setname +get +set +pexpire +del +eval +hgetall +hmget +hget +hset +hdel +zrange \
  +zrem +publish +xadd +xrange +xrevrange +copy +sadd +smembers +exists +multi +exec \
  +subscribe +psubscribe +unsubscribe +punsubscribe
acl swarm-operator on '>operator-pw' resetkeys '~swarm:*' resetchannels '&swarm:*' \
  -@all +@read +@write +@pubsub +@connection +client\|setname +time -@dangerous
# What an administrator does once: agents may not CONFIG SET.
rcli CONFIG SET notify-keyspace-events Khgz >/dev/null
rcli CONFIG SET requirepass admin-pw >/dev/null
RCLI_AUTH=(--no-auth-warning --user default --pass admin-pw)
[ "$(redis-cli -p "$REDIS_PORT" ping 2>&1)" != PONG ] || fail "Redis still answers without a password"

url() { echo "redis://$1:$2@127.0.0.1:$REDIS_PORT/0"; }
# Operators: swarm-cli from the environment. Daemons: a config file each, as a unit would have
# (the environment would take precedence over the file: not set for them).
unset SWARM_REDIS
OPERATOR=$(url swarm-operator operator-pw)
cli() { SWARM_REDIS=$OPERATOR "$CS_BIN/swarm-cli" "$@"; }
printf 'redis = %s\n' "$(url swarm-agent agent-pw)" >"$T/agent.conf"
printf 'redis = %s\n' "$(url swarm-coordinator coord-pw)" >"$T/coordinator.conf"
printf 'redis = %s\n' "$(url swarm-agent not-the-password)" >"$T/bad.conf"
chmod 600 "$T"/*.conf
setup_fleet $N
start_coordinator "" --config "$T/coordinator.conf"
start_agent a1 2 $N --config "$T/agent.conf"
wait_for "$N chargers connected, every process logged in as its own user" 30 connected_is $N
mqtt_sub 'chargers/+/up/#' "$T/up.txt"
wait_eval "the coordinator keeps the fleet totals with its own user" 15 \
  '[ "$(rcli EXISTS "$NS:totals:last:a1.w0")" = 1 ] && [ -n "$(rcli HGET "$NS:stats" msgs_out)" ]'

# Live config through keyspace notifications, with the agent's restricted user.
cli config set meter_s=1 >/dev/null
wait_for "meter_s=1 applied live" 15 has_frame "$T/up.txt" chargers/CP-000005/up/MeterValues
# A command with replies from both workers.
cli send "trigger * DataTransfer messageId=acl" >"$T/send.txt"
grep -q "$N done, 0 errors" "$T/send.txt" || fail "trigger: $(cat "$T/send.txt")"
# An agent's user cannot write what operators own.
out=$(redis-cli -p "$REDIS_PORT" --no-auth-warning --user swarm-agent --pass agent-pw HSET swarm:cfg heartbeat_s 1 2>&1 || true)
case "$out" in *NOPERM*) ;; *) fail "the agent user could write swarm:cfg: $out" ;; esac
log "ACL users: agents, coordinator and operator each work with their own rights ($out)"
# The coordinator records the events it hears ({ns}:eventlog) with its own user.
wait_eval "worker_joined recorded in swarm:eventlog" 10 \
  '[[ $(rcli XRANGE swarm:eventlog - +) == *worker_joined* ]]'
entry=$(rcli --raw XREVRANGE swarm:cmdlog + - COUNT 1 | tr '\n' ' ')
case "$entry" in *" by cli:"*) ;; *) fail "the operator's command is not in swarm:cmdlog with its sender: $entry" ;; esac

# A wrong password: said clearly, retried, no crash.
start_agent bad 1 5 --config "$T/bad.conf"
bad_pgid=$LAST_PGID
wait_for "the refused login is logged" 10 grep -qE "WRONGPASS|invalid username-password" "$T/agent-bad.log"
window_until $(( $(now_ms) + 1500 ))
kill -0 -- "-$bad_pgid" || fail "the agent with a wrong password exited"
[ "$(cli --json status | jq '[.workers[] | select(.name | startswith("bad."))] | length')" = 0 ] ||
  fail "an agent that could not log in appears in the fleet"

# No password in the open.
"$CS_BIN/swarm-agent" --config "$T/agent.conf" --print-config >"$T/print.txt" 2>&1
cli --print-config >>"$T/print.txt" 2>&1 || true
grep -q "redis" "$T/print.txt" || fail "--print-config printed no redis line"
if grep -lE "agent-pw|coord-pw|operator-pw|not-the-password" "$T/print.txt" "$T"/agent-*.log "$T"/coordinator.log; then
  fail "a Redis password appears in the files above"
fi
log "ok: authenticated Redis with ACL users; wrong password refused and retried; passwords masked"
