#!/usr/bin/env bash
# Redis restarts empty (no persistence, a common lab setup) under a running fleet: the workers
# must not read the empty hashes as "defaults, size 0" and drop every charger. They see a new
# run_id and their fleet hash gone, write back what they knew (fleet, config, layers, catalog,
# each charger's overrides and state) and keep running; a deliberate delete still applies.
source "$(dirname "$0")/lib.sh"

N=30
start_redis
start_mosquitto
setup_fleet $N lease_ms 3000
rcli HSET "$NS:cfg" heartbeat_s 45 >/dev/null
start_coordinator
start_agent a1 2 20
wait_for "$N chargers connected" 30 connected_is $N
cli config set --select 'CP-00000?' model=LayerModel >/dev/null
cli config set --charger CP-000003 max_kw=50 >/dev/null
rcli HSET "$NS:catalog" Hello '{"hello":"{id}"}' >/dev/null
cli start CP-000005 >/dev/null
wait_eval "the transaction of CP-000005 saved" 10 '[ -n "$(rcli --raw HGET "$NS:state:CP-000005" c1.tx_id)" ]'
cli reload >/dev/null 2>&1 || true
window_until $(( $(now_ms) + 1500 ))   # every worker has read it all
mark=$(wc -l <"$T/mosquitto.log")
gone() { tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep -cE "Client CP-[0-9]+ (disconnected|closed its connection)|as CP-" || true; }

restart_redis
log "redis restarted empty: $(rcli DBSIZE) keys"
redis_sub "$T/events.txt" "$NS:events"
restored() { [ "$(rcli --raw HGET "$NS:fleet" size)" = "$N" ]; }
wait_for "the fleet size written back" 10 restored
window_until $(( $(now_ms) + 4000 ))   # longer than a lease: the coordinator has decided
[ "$(gone)" -eq 0 ] || fail "chargers disconnected or reconnected after Redis came back empty: $(tail -n +"$((mark + 1))" "$T/mosquitto.log" | grep -m3 -E 'CP-')"
[ "$(rcli --raw HGET "$NS:cfg" heartbeat_s)" = 45 ] || fail "heartbeat_s not written back"
[ "$(rcli --raw HGET "$NS:cfg:layer:select-1" model 2>/dev/null || true)" = LayerModel ] ||
  [ -n "$(rcli --raw ZRANGE "$NS:layers" 0 -1)" ] || fail "the layer was not written back"
[ "$(rcli --raw HGET "$NS:charger:CP-000003" max_kw)" = 50 ] || fail "CP-000003's override not written back"
[ -n "$(rcli --raw HGET "$NS:catalog" Hello)" ] || fail "the catalog was not written back"
[ -n "$(rcli --raw HGET "$NS:state:CP-000005" c1.tx_id)" ] || fail "CP-000005's open transaction was not written back"
wait_for "$N connected per status" 10 connected_is $N
log "fleet, cfg, layers ($(rcli --raw ZRANGE "$NS:layers" 0 -1 | paste -sd,)), catalog, overrides and state written back; $N connected throughout"

# A deliberate change still applies: scale down.
cli scale 20 >/dev/null
wait_for "20 connected after a deliberate scale" 20 connected_is 20
log "ok: a deliberate scale to 20 applied after the restore"

# A worker's stats hash changes by the fields that changed; one that is gone is written whole
# again at the next interval or the one after.
full=$(rcli HLEN "$NS:stats:a1.w0")
rcli DEL "$NS:stats:a1.w0" >/dev/null
whole() { [ "$(rcli HLEN "$NS:stats:a1.w0")" -ge "$full" ]; }
wait_for "the deleted stats hash whole again ($full fields)" 5 whole
log "ok: a deleted stats hash ($full fields) was whole again within two intervals"
