#!/usr/bin/env bash
# Fleet control: config layers and their precedence (seen in what chargers send), where: and
# random: selectors, commands routed to the owning worker only, at=/in=/every=/count= and
# cancel, the chaos verbs, and replay of the command log.
source "$(dirname "$0")/lib.sh"

start_redis
start_mosquitto
mqtt_sub 'chargers/#' "$T/all.txt"
setup_fleet 40
start_coordinator
start_agent a1 2 50
wait_for "40 chargers connected" 30 connected_is 40
t_begin=$(now_ms)
count() { mqtt_lines "$T/all.txt" | awk -v t="$1" -v since="${3:-0}" '$2 == t && $1 * 1000 > since' | grep -c -F -- "${2:-}" || true; }
senders() { mqtt_lines "$T/all.txt" | awk -v t="$1" -v since="$2" '$1 * 1000 > since && $2 ~ t {split($2, p, "/"); print p[2]}' | sort -u; }
boot_of() { # vendor/model of the newest BootNotification of a charger
  mqtt_lines "$T/all.txt" | awk -v t="chargers/$1/up/BootNotification" '$2 == t' | tail -1 | cut -d' ' -f3- | jq -r ".[3].$2"; }
booted_with() { [ "$(boot_of "$1" "$2")" = "$3" ]; }

# --- layers: precedence, live, as the chargers report it -------------------------------
cli config set --select 'CP-000001..CP-000010' --layer ten model=DC150 max_kw=150 >/dev/null
cli config set --select 'CP-000005,CP-000006' --layer a vendor=VendorA >/dev/null
cli config set --select 'CP-000006' --layer b vendor=VendorB >/dev/null
cli config show CP-000006 vendor model max_kw >"$T/show.txt"
grep -q "^vendor *VendorB *layer:b" "$T/show.txt" || fail "config show: $(cat "$T/show.txt")"
grep -q "^model *DC150 *layer:ten" "$T/show.txt" || fail "config show: $(cat "$T/show.txt")"
cli trigger CP-000006,CP-000005 BootNotification >/dev/null
wait_for "CP-000006 reports VendorB (layer b, higher order)" 5 booted_with CP-000006 chargePointVendor VendorB
wait_for "CP-000005 reports VendorA" 5 booted_with CP-000005 chargePointVendor VendorA
booted_with CP-000006 chargePointModel DC150 || fail "layer 'ten' not applied"
cli config layer order a 10 >/dev/null   # a above b now
cli config set --charger CP-000005 vendor=Own >/dev/null
wait_eval "CP-000006 sees the reorder" 5 '[ "$(cli --json config show CP-000006 vendor | jq -r .vendor.from)" = "layer:a" ]'
cli trigger CP-000006,CP-000005 BootNotification >/dev/null
wait_for "CP-000006 reports VendorA after the reorder" 5 booted_with CP-000006 chargePointVendor VendorA
wait_for "CP-000005 reports its own override" 5 booted_with CP-000005 chargePointVendor Own
cli config layer rm a >/dev/null
cli trigger CP-000006 BootNotification >/dev/null
wait_for "layer removed: CP-000006 back to VendorB" 5 booted_with CP-000006 chargePointVendor VendorB
log "layers: charger > layer (highest order) > cfg > default, reorder and removal live"

# --- selectors ------------------------------------------------------------------------------
t=$(now_ms)
cli trigger 'where:model=DC150' Heartbeat >"$T/where.txt"
grep -q "10 chargers on" "$T/where.txt" || fail "where:model=DC150: $(cat "$T/where.txt")"
picked() { mqtt_lines "$T/all.txt" | grep -F "\"$1\"" | awk '{split($2, p, "/"); print p[2]}' | sort -u; }
cli trigger 'random:7:seed=3' DataTransfer messageId=pick1 >/dev/null
wait_eval "7 randomly picked chargers" 5 '[ "$(picked pick1 | wc -l)" -eq 7 ]'
cli trigger 'random:7:seed=3' DataTransfer messageId=pick2 >/dev/null
wait_eval "7 picked again" 5 '[ "$(picked pick2 | wc -l)" -eq 7 ]'
first=$(picked pick1)
[ "$(picked pick2)" = "$first" ] || fail "random:7:seed=3 picked other chargers the second time"
log "random:7:seed=3 picked the same 7 chargers twice: $(echo $first)"

# --- routing: a named charger's command goes to its owner only ---------------------------------
owner=$(cli --json trigger CP-000003 Heartbeat | jq -r .to)
[ "$owner" = "$(rcli HGET "$NS:state:CP-000003" owner)" ] || fail "routed to '$owner'"
[ "$(cli --json trigger 'CP-00000?' Heartbeat | jq -r .to)" = "*" ] || fail "a glob must be broadcast"

# --- scheduling (DataTransfer with a marker: periodic Heartbeats cannot blur the counts) -------
marked() { mqtt_lines "$T/all.txt" | grep -c -F "\"$1\"" || true; }
cli trigger CP-000030 DataTransfer messageId=sched4 every=300ms count=4 >/dev/null
wait_eval "4 scheduled runs" 5 '[ "$(marked sched4)" -ge 4 ]'
window_until $(( $(now_ms) + 800 ))
[ "$(marked sched4)" -eq 4 ] || fail "count=4 ran $(marked sched4) times"
t=$(now_ms)
cli trigger CP-000031 DataTransfer messageId=later in=1s >/dev/null
wait_eval "the in=1s trigger" 5 '[ "$(marked later)" -ge 1 ]'
arrived=$(mqtt_lines "$T/all.txt" | grep -F '"later"' | awk '{printf "%.0f\n", $1 * 1000; exit}')
[ $((arrived - t)) -ge 950 ] || fail "in=1s ran after $((arrived - t)) ms"
cli send '@beat trigger CP-000032 DataTransfer messageId=beat every=200ms' >/dev/null
wait_eval "repeating runs" 5 '[ "$(marked beat)" -ge 3 ]'
cli schedules >"$T/schedules.txt" || fail "schedules failed: $(cat "$T/schedules.txt")"
grep -Eq "^schedules: 1 scheduled command on [0-9]+ workers?" "$T/schedules.txt" || fail "$(cat "$T/schedules.txt")"
grep -Eq "^  [^ ]+ +beat +trigger +[0-9T:.-]+Z? +200 ms" "$T/schedules.txt" ||
  fail "the schedule is not listed: $(cat "$T/schedules.txt")"
cli cancel beat >"$T/cancel.txt" || fail "cancel failed: $(cat "$T/cancel.txt")"
grep -Eq "^cancel: 1 schedule stopped on [0-9]+ workers?" "$T/cancel.txt" || fail "$(cat "$T/cancel.txt")"
window_until $(( $(now_ms) + 150 ))
n=$(marked beat)
window_until $(( $(now_ms) + 700 ))
[ "$(marked beat)" -eq "$n" ] || fail "cancel did not stop the repetition"
log "scheduling: every=300ms count=4 ran 4 times, in=1s after $((arrived - t)) ms, cancel stopped every=200ms after $n runs"

# --- chaos ------------------------------------------------------------------------------------
cli garble CP-000033 kind=notjson >/dev/null
wait_for "a garbled frame" 5 sh -c "grep -q 'chargers/CP-000033/up/Heartbeat this is not OCPP' '$T/all.txt'"
cli dup CP-000034 >/dev/null
cli trigger CP-000034 DataTransfer messageId=twice >/dev/null
wait_eval "the duplicated message" 5 '[ "$(count chargers/CP-000034/up/DataTransfer twice)" -eq 2 ]'
[ "$(mqtt_lines "$T/all.txt" | grep 'chargers/CP-000034/up/DataTransfer' | cut -d' ' -f3- | sort -u | wc -l)" -eq 1 ] ||
  fail "dup: the two frames differ"
conn_before=$(grep -c "New client connected.* as CP-00003[5-9]" "$T/mosquitto.log" || true)
cli storm 'CP-00003[5-9]' >/dev/null
wait_eval "5 chargers reconnected at once" 10 '[ "$(grep -c "New client connected.* as CP-00003[5-9]" "$T/mosquitto.log")" -ge $((conn_before + 5)) ]'
wait_for "all 40 connected after the storm" 10 connected_is 40
log "chaos: garble, dup, storm"

# --- replay ------------------------------------------------------------------------------------
t=$(now_ms)
cli replay --from "$t_begin" --to "$((t_begin + 1))" --speed 100 >/dev/null   # nothing in that window
before=$(marked sched4)
rcli HSET "$NS:cfg:layer:ten" model ByHand >/dev/null   # not through swarm-cli: not in the log
cli replay --from "$t_begin" --speed 50 >"$T/replay.txt" || fail "replay: $(tail -5 "$T/replay.txt")"
grep -q "replay: [0-9]* commands and [0-9]* config writes" "$T/replay.txt" || fail "no replay summary"
wait_eval "the replayed every=/count= run" 10 '[ "$(marked sched4)" -ge $((before + 4)) ]'
# config writes replayed (the layer's model=DC150 again), the unbounded repetition and its
# cancel not re-armed, and said so
grep -q 'write {"op":"hset","key":"cfg:layer:ten"' "$T/replay.txt" || fail "the layer write was not replayed: $(cat "$T/replay.txt")"
[ "$(cli --json config get --layer ten model | jq -r .model.value)" = DC150 ] || fail "replay did not write model=DC150 again"
grep -q "skipped trigger: repeats until cancelled" "$T/replay.txt" || fail "every= without count= was re-armed: $(cat "$T/replay.txt")"
grep -q "skipped cancel: cancels beat, which this replay did not send" "$T/replay.txt" || fail "$(cat "$T/replay.txt")"
window_until $(( $(now_ms) + 600 ))
n=$(marked beat)
window_until $(( $(now_ms) + 600 ))
[ "$(marked beat)" -eq "$n" ] || fail "the replay re-armed the every=200ms repetition"
log "replay: $(head -1 "$T/replay.txt"); $(tail -1 "$T/replay.txt")"
pgrep -f "swarm-agent --name a1" >/dev/null || fail "the agent died"
log "ok: layers, selectors, routing, scheduling, chaos, replay"
