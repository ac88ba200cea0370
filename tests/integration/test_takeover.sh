#!/usr/bin/env bash
# A crashed agent's chargers continue on another one: charging sessions run on a1, a2 joins
# (a planned move of half the fleet), then a1 is SIGKILLed. Its chargers come back on a2 within
# the lease plus the ramp and every energy register continues where it was (never lower). An
# open transaction keeps its transactionId after a planned move; after the crash it continues
# under the same id (on_takeover=resume, set for CP-000003) or ends with a StopTransaction
# reason PowerLoss carrying that id and a meterStop no lower than the last reading (the default
# on_takeover=stop). An agent without on_takeover may do either; the checks follow what it did.
source "$(dirname "$0")/lib.sh"

LEASE_MS=2000
RAMP=200
CHARGING="2 3 5 14 17"   # 2, 3, 5 stay on a1 and move by the crash; 14, 17 move when a2 joins
start_redis
start_mosquitto
setup_fleet 20 lease_ms $LEASE_MS ramp_per_s $RAMP
# MeterValues every second; nobody answers, so an Authorize counts as accepted after 1 s.
rcli HSET "$NS:cfg" meter_s 1 call_timeout_s 1 max_kw 60 >/dev/null
# Expected crash behaviour per charger: the effective on_takeover, "any" where it is unknown.
declare -A MODE
if cli config set --charger CP-000003 on_takeover=resume >/dev/null 2>&1; then
  for i in 2 3 5; do
    MODE[$(printf 'CP-%06d' "$i")]=$(cli --json config get --charger "$(printf 'CP-%06d' "$i")" | jq -r '.on_takeover.value')
  done
else
  for i in 2 3 5; do MODE[$(printf 'CP-%06d' "$i")]=any; done
fi
mqtt_sub 'chargers/+/up/#' "$T/up.txt"
start_coordinator
start_agent a1 1 20
pg_a1=$LAST_PGID
wait_for "20 chargers connected on a1" 30 connected_is 20

id_of() { printf 'CP-%06d' "$1"; }
# Every MeterValues captured: "id  recv_ms  connector  transactionId|-  register_wh  context".
meter_table() {
  mqtt_lines "$T/up.txt" | awk '$2 ~ /\/up\/MeterValues$/' |
    jq -rR 'capture("^(?<ts>[0-9.]+) chargers/(?<id>[^/]+)/up/MeterValues (?<p>.*)$") | (.p | fromjson) as $m |
      [.id, (.ts | tonumber * 1000 | floor), $m[3].connectorId, ($m[3].transactionId // "-"),
       ($m[3].meterValue[0].sampledValue[] | select(.measurand == "Energy.Active.Import.Register") | .value),
       ($m[3].meterValue[0].sampledValue[0].context // "-")] | @tsv' 2>/dev/null
}
# snap takes the table once per poll; meters_after counts MeterValues of charger $1 in it
# received after $2 ms (with a transactionId when $3 = tx).
snap() { meter_table >"$T/snap.tsv"; }
meters_after() {
  [ -n "$2" ] || { echo 0; return; }
  awk -F'\t' -v id="$1" -v t="$2" -v tx="${3:-}" '$1 == id && $2 > t && (tx == "" || $4 != "-")' "$T/snap.tsv" | wc -l
}
first_boot_after() {
  mqtt_lines "$T/up.txt" | awk -v t="chargers/$1/up/BootNotification" -v after="$2" '$2 == t && $1 * 1000 > after {printf "%.0f\n", $1 * 1000; exit}'
}
state() { rcli --raw HGET "$NS:state:$1" "$2"; }
workers_are() {
  local a
  a=$(cli --json status) || return 1
  [ "$(jq -r '[.workers[] | "\(.name)=\(.chargers)/\(.connected)"] | sort | join(" ")' <<<"$a")" = "$1" ]
}

# --- sessions on a1 ------------------------------------------------------------------------------
sel=$(for i in $CHARGING; do id_of "$i"; echo; done | paste -sd,)
cli start "$sel" kw=50 >"$T/start.txt" || fail "start failed: $(cat "$T/start.txt")"
t_start=$(now_ms)
metering() { snap; for i in $CHARGING; do [ "$(meters_after "$(id_of "$i")" "$t_start" tx)" -ge 3 ] || return 1; done; }
wait_for "3 transaction MeterValues from each charging charger" 15 metering
declare -A TX
for i in $CHARGING; do
  id=$(id_of "$i")
  TX[$id]=$(awk -F'\t' -v id="$id" '$1 == id && $4 != "-" {tx = $4} END {print tx}' "$T/snap.tsv")
  [ -n "${TX[$id]}" ] || fail "$id: no transactionId in its MeterValues"
done
log "charging at 50 kW: $(for i in $CHARGING; do id=$(id_of "$i"); printf '%s tx %s %s Wh; ' "$id" "${TX[$id]}" "$(state "$id" c1.meter_wh)"; done)"

# --- a2 joins: 11..20 move by plan ----------------------------------------------------------------
start_agent a2 1 20
t_join=$(now_ms)
wait_for "10 chargers on each agent, all connected" 30 workers_are "a1.w0=10/10 a2.w0=10/10"
[ "$(rcli --raw HGET "$NS:assign" a1.w0)/$(rcli --raw HGET "$NS:assign" a2.w0)" = "1-10/11-20" ] ||
  fail "assignment after a2 joined: $(rcli --raw HGETALL "$NS:assign" | paste -sd' ')"
planned_moved() { snap; for i in 14 17; do [ "$(meters_after "$(id_of "$i")" "$(first_boot_after "$(id_of "$i")" "$t_join")" tx)" -ge 2 ] || return 1; done; }
wait_for "MeterValues from 14 and 17 on a2" 15 planned_moved
log "a2 joined: a1.w0=1-10 a2.w0=11-20 (planned move in $(( $(now_ms) - t_join )) ms)"

# --- crash a1 ---------------------------------------------------------------------------------------
# A few more readings on a1 first, then the last state a1 wrote.
t_more=$(now_ms)
more() { snap; for i in 2 3 5; do [ "$(meters_after "$(id_of "$i")" "$t_more" tx)" -ge 2 ] || return 1; done; }
wait_for "more readings from 2, 3, 5 on a1" 10 more
declare -A SAVED SAVED_E
t_kill=$(now_ms)
kill -KILL -- "-$pg_a1"
for i in $(seq 1 10); do
  SAVED[$(id_of "$i")]=$(state "$(id_of "$i")" c1.meter_wh)
  SAVED_E[$(id_of "$i")]=$(state "$(id_of "$i")" energy_wh)
done
log "a1 killed (SIGKILL to its process group)"
bound_s=$(( (LEASE_MS + 1000 + 10 * 1000 / RAMP) / 1000 + 5 ))
on_a2() {
  local i
  for i in $(seq 1 10); do
    [ "$(rcli --raw HMGET "$NS:state:$(id_of "$i")" owner connected | paste -sd/)" = "a2.w0/1" ] || return 1
  done
}
wait_for "chargers 1..10 connected on a2" "$bound_s" on_a2
took=$(( $(now_ms) - t_kill ))
wait_for "a2 reports 20 connected" 5 workers_are "a2.w0=20/20"
boot_max=0
for i in $(seq 1 10); do
  b=$(first_boot_after "$(id_of "$i")" "$t_kill")
  [ -n "$b" ] || fail "$(id_of "$i") sent no BootNotification after the crash"
  [ $((b - t_kill)) -gt $boot_max ] && boot_max=$((b - t_kill))
done
log "chargers 1..10 back on a2 ${took} ms after the crash (last BootNotification at +${boot_max} ms; lease ${LEASE_MS} ms, bound ${bound_s} s)"
[ "$boot_max" -le $(( (LEASE_MS + 1000 + 10 * 1000 / RAMP) + 2000 )) ] || fail "takeover took ${boot_max} ms"
# a2's own chargers did not notice.
for i in $(seq 11 20); do
  [ -z "$(first_boot_after "$(id_of "$i")" "$t_kill")" ] || fail "$(id_of "$i") (on a2 all along) booted again after the crash"
done
after_takeover() { snap; for i in $(seq 1 10); do [ "$(meters_after "$(id_of "$i")" "$(first_boot_after "$(id_of "$i")" "$t_kill")")" -ge 2 ] || return 1; done; }
wait_for "2 MeterValues from each moved charger on a2" 10 after_takeover
# Readings on a2 for a few more seconds, to see the registers grow.
t_grow=$(now_ms)
grow() { snap; for i in 2 3 5; do [ "$(meters_after "$(id_of "$i")" "$t_grow")" -ge 2 ] || return 1; done; }
wait_for "2 more readings from 2, 3, 5 on a2" 10 grow
meter_table >"$T/meters.tsv"

# --- every register continues, never lower ----------------------------------------------------------
# check_register ID T_MOVE: sets BEFORE (last reading before the move) and AFTER (the first after).
check_register() {
  local id=$1 t=$2
  # The whole series of connector 1 never goes down.
  awk -F'\t' -v id="$id" '$1 == id && $3 == 1 {if (n++ && $5 + 0 < last) {print "down: " last " -> " $5 " at " $2; exit 1} last = $5 + 0}' "$T/meters.tsv" ||
    fail "$id: its energy register went down"
  BEFORE=$(awk -F'\t' -v id="$id" -v t="$t" '$1 == id && $3 == 1 && $2 < t {v = $5} END {print v}' "$T/meters.tsv")
  AFTER=$(awk -F'\t' -v id="$id" -v t="$t" '$1 == id && $3 == 1 && $2 > t {print $5; exit}' "$T/meters.tsv")
  [ -n "$BEFORE" ] && [ -n "$AFTER" ] || fail "$id: no readings before ($BEFORE) or after ($AFTER) the move"
  [ "$AFTER" -ge "$BEFORE" ] || fail "$id: register $BEFORE Wh before the move, $AFTER Wh after"
}
for i in $(seq 1 10); do
  id=$(id_of "$i")
  check_register "$id" "$t_kill"
  now_wh=$(state "$id" c1.meter_wh)
  awk -v a="$now_wh" -v b="${SAVED[$id]}" 'BEGIN {exit !(a + 0 >= b + 0)}' ||
    fail "$id: {ns}:state c1.meter_wh ${SAVED[$id]} at the crash, $now_wh after"
  [ "$(state "$id" energy_wh)" -ge "${SAVED_E[$id]}" ] ||
    fail "$id: {ns}:state energy_wh ${SAVED_E[$id]} at the crash, $(state "$id" energy_wh) after"
  [ "$i" = 2 ] || [ "$i" = 3 ] || [ "$i" = 5 ] || [ "$BEFORE" = "$AFTER" ] ||
    fail "$id (idle): register $BEFORE -> $AFTER across the crash"
done
log "registers of 1..10 never went down across the crash (idle chargers unchanged)"

# --- the open transactions ---------------------------------------------------------------------------
tx_report=""
check_tx() {   # id, t_move, label, expected: resume|stop|any
  local id=$1 t=$2 label=$3 want=$4 before after last open tx_after stop t_stop
  check_register "$id" "$t"
  before=$BEFORE after=$AFTER
  open=$(state "$id" c1.tx_id)
  [ "$want" != resume ] || [ -n "$open" ] || fail "$id: the transaction did not survive the $label (want: $want)"
  [ "$want" != stop ] || [ -z "$open" ] || fail "$id: transaction $open still open after the $label (want: $want)"
  if [ -n "$open" ]; then
    [ "$open" = "${TX[$id]}" ] || fail "$id: open transaction $open after the $label, was ${TX[$id]}"
    tx_after=$(awk -F'\t' -v id="$id" -v t="$t" '$1 == id && $3 == 1 && $2 > t {print $4}' "$T/meters.tsv" | sort -u | paste -sd,)
    [ "$tx_after" = "${TX[$id]}" ] || fail "$id: MeterValues after the $label carry transactionId '$tx_after', want ${TX[$id]}"
    last=$(awk -F'\t' -v id="$id" '$1 == id && $3 == 1 {v = $5} END {print v}' "$T/meters.tsv")
    [ "$last" -gt "$after" ] || fail "$id: the register stopped growing after the $label ($after -> $last Wh)"
    [ "$(state "$id" c1.status)" = Charging ] || fail "$id: status $(state "$id" c1.status) after the $label"
    tx_report+="$id ($want): tx ${TX[$id]} continues, ${before} -> ${after} Wh (-> ${last}); "
  else
    stop=$(mqtt_lines "$T/up.txt" | awk -v tp="chargers/$id/up/StopTransaction" -v t="$t" '$2 == tp && $1 * 1000 > t' | sed -n 1p)
    [ -n "$stop" ] || fail "$id: the transaction ended with the $label without a StopTransaction"
    t_stop=$(awk '{printf "%.0f", $1 * 1000}' <<<"$stop")
    stop=$(cut -d' ' -f3- <<<"$stop")
    jq -e --argjson tx "${TX[$id]}" --argjson b "$before" '.[3].transactionId == $tx and .[3].meterStop >= $b' <<<"$stop" >/dev/null ||
      fail "$id: bad StopTransaction after the $label: $stop"
    [ "$want" != stop ] || jq -e '.[3].reason == "PowerLoss"' <<<"$stop" >/dev/null ||
      fail "$id: StopTransaction reason $(jq -c '.[3].reason' <<<"$stop") after the $label, want PowerLoss"
    tx_after=$(awk -F'\t' -v id="$id" -v t="$t_stop" -v tx="${TX[$id]}" '$1 == id && $2 > t && $4 == tx' "$T/meters.tsv" | wc -l)
    [ "$tx_after" -eq 0 ] || fail "$id: $tx_after MeterValues of transaction ${TX[$id]} after its StopTransaction"
    [ "$want" != stop ] || [ "$(state "$id" c1.status)" = Finishing ] ||
      fail "$id: status $(state "$id" c1.status) after the PowerLoss stop, want Finishing (cable still in)"
    tx_report+="$id ($want): tx ${TX[$id]} stopped ($(jq -c '.[3] | {reason, meterStop}' <<<"$stop")), ${before} -> ${after} Wh; "
  fi
}
# Planned moves always keep the transaction.
for i in 14 17; do check_tx "$(id_of "$i")" "$(first_boot_after "$(id_of "$i")" "$t_join")" "planned move" resume; done
log "planned move: $tx_report"
tx_report=""
for i in 2 3 5; do check_tx "$(id_of "$i")" "$t_kill" crash "${MODE[$(id_of "$i")]}"; done
log "crash: $tx_report"
for i in 2 3 5; do
  id=$(id_of "$i")
  lost=$(awk -F'\t' -v id="$id" -v t="$t_kill" '$1 == id && $3 == 1 && $2 < t {b = $5; tb = $2} $1 == id && $3 == 1 && $2 > t && !a {a = $5; ta = $2} END {printf "last reading on a1 %d Wh, first on a2 %d Wh (+%d Wh) %.1f s later; 50 kW over that gap would be %d Wh", b, a, a - b, (ta - tb) / 1000, 50000 * (ta - tb) / 3600000}' "$T/meters.tsv")
  log "$id: $lost"
done

if grep -q "already connected" "$T/mosquitto.log"; then
  fail "the broker kicked a duplicate client ID: $(grep "already connected" "$T/mosquitto.log" | sed -n 1,3p)"
fi
log "ok: crash takeover within ${took} ms, registers continue, transactions kept or stopped as on_takeover says"
