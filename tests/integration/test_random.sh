#!/usr/bin/env bash
# random: selectors: every worker picks from one global sample; fleet seed 0 = a new sample per
# command, a fixed seed or :seed= the same one; a config layer keeps its sample when read again
# and, for random:P%, when the fleet grows.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
mqtt_sub 'chargers/+/up/DataTransfer' "$T/dt.txt"
setup_fleet 40
start_coordinator
start_agent a1 2 40
wait_for "40 chargers connected" 30 connected_is 40
picked() { mqtt_lines "$T/dt.txt" | grep -F "\"$1\"" | awk '{split($2, p, "/"); print p[2]}' | sort -u; }
pick() { # MARK SELECTOR: trigger a DataTransfer with messageId=MARK from the selected chargers
  cli trigger "$2" DataTransfer messageId="$1" >/dev/null || fail "trigger $2"
}

# Fleet seed 0: two commands, two samples of exactly 5 over both workers.
pick r1 random:5
pick r2 random:5
wait_eval "5 + 5 picked" 5 '[ "$(picked r1 | wc -l)" -eq 5 ] && [ "$(picked r2 | wc -l)" -eq 5 ]'
[ "$(picked r1)" != "$(picked r2)" ] || fail "seed 0: the same sample twice: $(picked r1 | xargs)"
log "seed 0: a new sample per command ($(picked r1 | xargs) / $(picked r2 | xargs))"

# A fixed fleet seed: the same sample every time; :seed= likewise.
cli config set --fleet seed=7 >/dev/null
pick r3 random:5
pick r4 random:5
pick r5 random:5:seed=99
pick r6 random:5:seed=99
wait_eval "4 x 5 picked" 5 '[ "$(picked r3 | wc -l)" -eq 5 ] && [ "$(picked r4 | wc -l)" -eq 5 ] &&
  [ "$(picked r5 | wc -l)" -eq 5 ] && [ "$(picked r6 | wc -l)" -eq 5 ]'
[ "$(picked r3)" = "$(picked r4)" ] || fail "fleet seed 7: two samples"
[ "$(picked r5)" = "$(picked r6)" ] || fail ":seed=99: two samples"
cli config set --fleet seed=0 >/dev/null
log "fixed seeds repeat the sample"

# A layer keeps its sample: read again (reload) and after the fleet grows (random:P%).
cli config set --select 'random:30%' --layer canary firmware=2.0-beta >/dev/null
pick l1 'where:firmware=2.0-beta'
wait_eval "the layer's chargers" 5 '[ "$(picked l1 | wc -l)" -ge 3 ]'
cli reload >/dev/null
cli scale 60 >/dev/null
wait_for "60 chargers connected" 30 connected_is 60
pick l2 'where:firmware=2.0-beta'
wait_eval "the layer's chargers again" 5 '[ "$(picked l2 | wc -l)" -ge "$(picked l1 | wc -l)" ]'
first=$(picked l1)
again=$(picked l2 | awk '$1 <= "CP-000040"')
[ "$first" = "$again" ] || fail "the layer's sample changed: $(echo $first) -> $(echo $again)"
# swarm-cli's view of a charger agrees with the workers'
one=$(echo "$first" | head -1)
[ "$(cli --json config show "$one" firmware | jq -r .firmware.from)" = "layer:canary" ] ||
  fail "config show $one: $(cli config show "$one" firmware)"
log "ok: layer random:30% kept its $(echo "$first" | wc -l) chargers through a reload and 40 -> 60"
