#!/usr/bin/env bash
# (deploy) The playbooks in ansible/ for real, against localhost (ansible_connection=local) with
# service_manager=process: site.yml installs the programs from CS_BIN into a temporary prefix,
# writes their configs, starts a coordinator and an agent pointed at the test's Redis and
# mosquitto and sets the fleet; all 50 chargers connect. A second site.yml changes nothing;
# a third one, with new programs, restarts both services (and writes the kernel settings as a
# drop-in file instead of with ansible.posix).
# scale.yml grows the fleet, rolling-restart.yml restarts the agent and waits for its chargers,
# stop.yml stops everything (processes gone), start.yml brings it back, stop.yml again.
# Ansible runs with HOME and its temp directories inside the test's directory.
source "$(dirname "$0")/lib.sh"

for tool in ansible-playbook ansible-galaxy start-stop-daemon; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps installs ansible)"; exit $SKIP; }
done
ANSIBLE_DIR=$(cd "$(dirname "$0")/../../ansible" && pwd)

start_redis
start_mosquitto

R=$T/root                     # the managed "host": prefix, config, pid files
CTL=$R/usr/sbin/chargeswarm-ctl
# Whatever happens, the processes the playbooks started are stopped (before the harness
# looks for leftovers).
on_cleanup '[ -x "$CTL" ] && { "$CTL" stop swarm-agent; "$CTL" stop swarm-coordinator; } >/dev/null 2>&1'

mkdir -p "$T/inv/group_vars" "$T/home" "$T/cache"
cat >"$T/inv/hosts.yml" <<EOF
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
  children:
    redis:
      hosts: {}
    coordinator:
      hosts:
        localhost:
    agents:
      hosts:
        localhost:
EOF
cat >"$T/inv/group_vars/all.yml" <<EOF
chargeswarm_service_manager: process
chargeswarm_become: false
chargeswarm_install_method: binaries
chargeswarm_binaries_dir: $CS_BIN
chargeswarm_install_packages: false
chargeswarm_manage_user: false
chargeswarm_user: ""
chargeswarm_prefix: $R/usr
chargeswarm_config_dir: $R/etc/chargeswarm
chargeswarm_run_dir: $R/run/chargeswarm
chargeswarm_log_dir: $T
chargeswarm_systemd_dir: $R/etc/systemd/system
chargeswarm_redis_host: 127.0.0.1
chargeswarm_redis_port: $REDIS_PORT
chargeswarm_namespace: $NS
chargeswarm_brokers:
  - tcp://127.0.0.1:$MQTT_PORT
chargeswarm_fleet_size: 50
chargeswarm_ramp_per_s: 500
chargeswarm_lease_ms: 3000
chargeswarm_charger_settings:
  heartbeat_s: 30
chargeswarm_coordinator_tick_ms: 200
chargeswarm_agent_name: local1
chargeswarm_agent_workers: 2
chargeswarm_agent_max_chargers: 50
chargeswarm_agent_stop_timeout: 5
# Kernel settings: written to a file under the prefix, never applied to this machine.
chargeswarm_sysctl_file: $R/etc/sysctl.d/60-chargeswarm.conf
chargeswarm_sysctl_apply: false
chargeswarm_restart_retries: 60
chargeswarm_restart_delay: 1
EOF

# ansible-playbook NAME [args]: runs ansible/NAME.yml; its output goes to $T/ansible-NAME-<n>.out.
runs=0
play() {
  local name=$1; shift
  runs=$((runs + 1))
  LAST_OUT=$T/ansible-$name-$runs.out
  local t0; t0=$(now_ms)
  if ! env -u SWARM_REDIS -u SWARM_NAMESPACE -u SWARM_LOG_LEVEL \
      HOME="$T/home" XDG_CACHE_HOME="$T/cache" ANSIBLE_HOME="$T/home/.ansible" \
      ANSIBLE_LOCAL_TEMP="$T/ansible-tmp/local" ANSIBLE_REMOTE_TEMP="$T/ansible-tmp/remote" \
      ANSIBLE_CONFIG="$ANSIBLE_DIR/ansible.cfg" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
      ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0 \
      timeout 150 ansible-playbook -i "$T/inv/hosts.yml" "$ANSIBLE_DIR/$name.yml" "$@" \
      </dev/null >"$LAST_OUT" 2>&1; then
    tail -n 60 "$LAST_OUT"
    fail "ansible-playbook $name.yml failed (output in $LAST_OUT)"
  fi
  log "$name.yml: $(grep -E '^localhost +:' "$LAST_OUT" | sed 's/  */ /g') ($(( $(now_ms) - t0 )) ms)"
}
recap() { grep -E '^localhost +:' "$LAST_OUT" | grep -oE "$1=[0-9]+" | cut -d= -f2; }
pid_of() { cat "$R/run/chargeswarm/$1.pid" 2>/dev/null; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# Processes running one of the installed programs.
installed_running() { pgrep -f -- "$R/usr/bin/swarm-" >/dev/null; }
workers_are() { [ "$(cli --json status | jq '.workers | length')" = "$1" ]; }

# ---- deploy ----------------------------------------------------------------------------------
play site
for p in swarm-agent swarm-coordinator swarm-cli; do
  [ -x "$R/usr/bin/$p" ] || fail "$p not installed under the prefix"
  cmp -s "$R/usr/bin/$p" "$CS_BIN/$p" || fail "$p under the prefix differs from $CS_BIN/$p"
done
[ -x "$CTL" ] || fail "chargeswarm-ctl not installed"
alive swarm-coordinator || fail "no coordinator running"
alive swarm-agent || fail "no agent running"
[ "$(readlink "/proc/$(pid_of swarm-agent)/exe")" = "$R/usr/bin/swarm-agent" ] ||
  fail "the agent does not run the installed binary"
wait_for "50 chargers connected" 60 connected_is 50
cli --json status | jq -e '[.workers[].name] | sort == ["local1.w0", "local1.w1"]' >/dev/null ||
  fail "workers: $(cli --json status | jq -c '[.workers[].name]')"

# The programs read their settings from the files the roles wrote (no SWARM_* variables).
env -u SWARM_REDIS "$R/usr/bin/swarm-agent" --config "$R/etc/chargeswarm/swarm-agent.conf" --print-config >"$T/agent-config.txt"
grep -qE "^redis +redis://127.0.0.1:$REDIS_PORT/0 +file " "$T/agent-config.txt" || fail "agent config: $(cat "$T/agent-config.txt")"
grep -qE "^max-chargers +50 +file " "$T/agent-config.txt" || fail "agent config: $(cat "$T/agent-config.txt")"
tr '\0' ' ' <"/proc/$(pid_of swarm-agent)/environ" | grep 'SWARM_REDIS=' >/dev/null && fail "the agent inherited SWARM_REDIS"

# The fleet settings went to Redis.
[ "$(rcli HGET "$NS:fleet" ramp_per_s)" = 500 ] || fail "ramp_per_s not set"
[ "$(rcli HGET "$NS:fleet" lease_ms)" = 3000 ] || fail "lease_ms not set"
[ "$(rcli HGET "$NS:cfg" broker)" = "tcp://127.0.0.1:$MQTT_PORT" ] || fail "broker not set"
[ "$(rcli HGET "$NS:cfg" heartbeat_s)" = 30 ] || fail "heartbeat_s not set"

# Kernel settings: the file holds all three, and never lowers what this machine has.
sysctl_file=$R/etc/sysctl.d/60-chargeswarm.conf
[ -f "$sysctl_file" ] || fail "no sysctl file"
sysctl_val() { sed -nE "s/^$1 *= *//p" "$sysctl_file"; }
[ "$(sysctl_val net.ipv4.ip_local_port_range)" = "10240 65535" ] || fail "sysctl file: $(cat "$sysctl_file")"
for k in fs.file-max net.core.somaxconn; do
  want=$(sysctl_val "$k")
  have=$(cat "/proc/sys/${k//.//}")
  [ -n "$want" ] && [ "$want" -ge "$have" ] || fail "$k: file says '$want', the machine has $have"
done
log "deployed: 50 chargers connected; configs, fleet settings and sysctl file as expected"

# ---- idempotence ------------------------------------------------------------------------------
agent_pid=$(pid_of swarm-agent)
coord_pid=$(pid_of swarm-coordinator)
play site
[ "$(recap changed)" = 0 ] || { grep -B2 -E '^changed:' "$LAST_OUT" | sed -n 1,40p; fail "second site.yml changed something"; }
[ "$(pid_of swarm-agent)" = "$agent_pid" ] && [ "$(pid_of swarm-coordinator)" = "$coord_pid" ] ||
  fail "second site.yml restarted a service"

# ---- an upgrade ----------------------------------------------------------------------------------
# New programs (here: a byte appended to each, still the same ELF) restart both services, the
# agent too although this host got its programs in the coordinators' play. The same run writes
# the kernel settings the other way (used where ansible.posix is not installed): a drop-in file
# from a template, applied by a handler (here: not applied).
mkdir -p "$T/bin2"
for p in swarm-agent swarm-coordinator swarm-cli; do
  cp "$CS_BIN/$p" "$T/bin2/$p" && printf '\n' >>"$T/bin2/$p"
done
play site -e "chargeswarm_binaries_dir=$T/bin2" -e chargeswarm_sysctl_method=dropin \
  -e "chargeswarm_sysctl_file=$R/etc/sysctl.d/61-dropin.conf"
grep -qx 'net.ipv4.ip_local_port_range = 10240 65535' "$R/etc/sysctl.d/61-dropin.conf" ||
  fail "drop-in: $(cat "$R/etc/sysctl.d/61-dropin.conf" 2>&1)"
cmp -s "$R/usr/bin/swarm-agent" "$T/bin2/swarm-agent" || fail "the new agent was not installed"
alive swarm-agent && alive swarm-coordinator || fail "a service is not running after the upgrade"
[ "$(pid_of swarm-agent)" != "$agent_pid" ] || fail "the agent was not restarted for its new program"
[ "$(pid_of swarm-coordinator)" != "$coord_pid" ] || fail "the coordinator was not restarted for its new program"
wait_for "50 chargers connected after the upgrade" 60 connected_is 50
agent_pid=$(pid_of swarm-agent)
log "upgrade: both services restarted on the new programs, 50 connected again"

# ---- scale -------------------------------------------------------------------------------------
play scale -e chargeswarm_fleet_size=60
connected_is 60 || fail "scale.yml returned with $(connected) connected, want 60"
[ "$(rcli HGET "$NS:fleet" size)" = 60 ] || fail "fleet size not 60"

# ---- rolling restart ---------------------------------------------------------------------------
play rolling-restart
new_pid=$(pid_of swarm-agent)
[ -n "$new_pid" ] && [ "$new_pid" != "$agent_pid" ] || fail "the agent was not restarted"
connected_is 60 || fail "rolling-restart.yml returned with $(connected) connected, want 60"
grep -q "Wait until this host's workers are back" "$LAST_OUT" || fail "no wait in the rolling restart"

# ---- stop, start, stop -------------------------------------------------------------------------
play stop
installed_running && fail "processes still running after stop.yml: $(pgrep -af -- "$R/usr/bin/swarm-")"
[ ! -e "$R/run/chargeswarm/swarm-agent.pid" ] || fail "pid file left behind"
wait_for "the workers to leave the fleet" 10 workers_are 0
log "stop.yml: no process left, the workers left the fleet"

play start
wait_for "60 chargers connected after start.yml" 60 connected_is 60
play stop
installed_running && fail "processes still running after the second stop.yml"
[ "$(recap failed)" = 0 ] || fail "stop.yml reported failures"
log "ok: site (deploy, idempotent, upgrade), scale, rolling-restart, stop, start, stop"
