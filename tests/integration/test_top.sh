#!/usr/bin/env bash
# swarm-cli top in a real terminal (a detached tmux session of fixed size): the fleet summary
# with every charger connected, one row per worker, a non-zero messages/s and its sparkline,
# and an event published while it runs. A resize re-lays the screen out at the new size. q,
# Ctrl-C and SIGTERM end it with the terminal restored (alternate screen left, cursor shown,
# termios as before). With Redis gone the view shows the error and recovers when it is back.
# Without a terminal on stdout it refuses (exit 2).
source "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed (scripts/deps installs it)"; exit $SKIP; }

N=30
start_redis
start_mosquitto
setup_fleet $N
rcli HSET "$NS:cfg" heartbeat_s 1 >/dev/null
start_coordinator
start_agent a1 2 $N
wait_for "$N chargers connected" 30 connected_is $N
mapfile -t WORKERS < <(cli --json status | jq -r '.workers[].name' | sort)
[ "${#WORKERS[@]}" = 2 ] || fail "want 2 workers, have: ${WORKERS[*]}"

# ---- no terminal, usage ----
RC=0; cli top </dev/null >/dev/null 2>"$T/notty.err" || RC=$?
[ "$RC" = 2 ] || fail "top without a terminal: exit $RC, not 2"
grep -q 'not a terminal.*status --watch' "$T/notty.err" || fail "top without a terminal: $(cat "$T/notty.err")"
RC=0; cli top --interval 0.1 >/dev/null 2>"$T/interval.err" || RC=$?
[ "$RC" = 2 ] && grep -q -- '--interval' "$T/interval.err" || fail "--interval 0.1: exit $RC, $(cat "$T/interval.err")"
cli top --help >"$T/help.out" || fail "top --help failed"
for w in --interval q Ctrl-C 'status --watch'; do
  grep -q -- "$w" "$T/help.out" || fail "top --help does not mention $w"
done
cli completion bash | grep '  top) COMPREPLY' >/dev/null || fail "no completion for top"

# ---- a terminal: tmux on a private socket ----
# (its socket under $T: removed with it)
TM=(env TMUX_TMPDIR="$T" tmux -L "cs-$$" -f /dev/null)
on_cleanup "${TM[*]} kill-server 2>/dev/null"
"${TM[@]}" new-session -d -s top -x 120 -y 40 -e SWARM_REDIS="$SWARM_REDIS" -e PS1='$ ' \
  bash --norc --noprofile
screen() { "${TM[@]}" capture-pane -p -t top; }
shows() { screen | LC_ALL=C.UTF-8 grep -q -E -- "$1"; }
pane() { "${TM[@]}" display-message -p -t top "$1"; }
# run_top LOCALE ARGS: types the command at the shell prompt; the line after it prints the
# exit status and whether the terminal modes are the ones from before.
run_top() {
  local loc=$1; shift
  "${TM[@]}" send-keys -t top -l "clear; S0=\$(stty -g); LC_ALL=$loc $CS_BIN/swarm-cli top $*; echo EXIT=\$? TERMIOS=\$([ \"\$(stty -g)\" = \"\$S0\" ] && echo same || echo changed)"
  "${TM[@]}" send-keys -t top Enter
  wait_eval "top on the alternate screen" 10 '[ "$(pane "#{alternate_on}")" = 1 ]'
  wait_for "the fleet summary" 10 shows 'fleet +size'
}
# restored STATUS...: top exited with one of them; the shell has its screen and modes back.
restored() {
  wait_for "top to exit" 10 shows '^EXIT=[0-9]+ '
  local line; line=$(screen | grep '^EXIT=')
  local st=${line#EXIT=}; st=${st%% *}
  local ok=0 s; for s in "$@"; do [ "$st" = "$s" ] && ok=1; done
  [ $ok = 1 ] || fail "top exited $st, want $*: $(screen)"
  [[ $line == *TERMIOS=same ]] || fail "terminal modes not restored: $line"
  [ "$(pane '#{alternate_on} #{cursor_flag}')" = "0 1" ] ||
    fail "alternate screen or hidden cursor left behind: $(pane '#{alternate_on} #{cursor_flag}')"
  ! shows 'swarm-cli top +namespace' || fail "top's screen is still shown: $(screen)"
}

run_top C.UTF-8 --interval 0.5
wait_for "30 connected" 10 shows "connected $N "
for w in "${WORKERS[@]}"; do wait_for "row of $w" 5 shows "^$w "; done
wait_for "a non-zero message rate" 15 shows 'messages +out ([1-9][0-9]*\.[0-9]|0\.[1-9])/s'
wait_for "a sparkline" 10 shows 'msgs/s +[▁▂▃▄▅▆▇█]*[▂▃▄▅▆▇█]'
wait_for "the coordinator id" 10 shows 'coordinator coord '
wait_for "the PUBACK latency of the last 10 s" 20 shows '^latency +last 10 s +PUBACK p50 [0-9.]+ ms +p99 [0-9.]+ ms'
# An event (a value the workers reject) shows up in the pane once top is subscribed.
wait_for "the events pane subscribed" 10 shows '\(no events yet\)'
rcli HSET "$NS:charger:CP-000003" heartbeat_s soon >/dev/null
wait_for "the config_rejected event" 10 shows '[0-9:]{8} config_rejected +worker=.*key=heartbeat_s'
screen >"$T/screen-120x40.txt"
log "screen at 120x40:"; cat "$T/screen-120x40.txt"
[ "$(screen | wc -l)" -le 40 ] || fail "more than 40 lines"

# The states that matter during a test, and the platform's answers by action, also at 80
# columns: the table's columns fit (a row ends with its FAILED count, not clipped).
shows '^states +charging [0-9]+ +faulted [0-9]+ +open transactions [0-9]+ +offline [0-9]+' ||
  fail "no states line: $(screen)"
"${TM[@]}" resize-window -t top -x 80 -y 24
wait_for "the per-action table at 80 columns" 10 \
  shows '^ACTION \(last 10 s\) +REQ/S +FAIL/S +P50 MS +P95 MS +P99 MS +FAILED'
wait_for "an action row" 10 shows '^CALL (Heartbeat|BootNotification) +[0-9.]+ +[0-9.]+ +[-0-9.]+ +[-0-9.]+ +[-0-9.]+ +[0-9]+$'
screen >"$T/screen-80x24.txt"
log "screen at 80x24:"; cat "$T/screen-80x24.txt"
awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$T/screen-80x24.txt" || fail "lines over 80 columns"
for w in "${WORKERS[@]}"; do shows "^$w " || fail "row of $w missing at 80x24: $(screen)"; done

# Resize. At 100x20 the events pane moves up from line 31 to line 15: seen there, it was
# drawn for the new size (what tmux keeps of the old screen ends at line 20 with no pane).
"${TM[@]}" resize-window -t top -x 100 -y 20
wait_eval "the events pane at line 15" 10 '[ "$(screen | sed -n 15p)" = "EVENTS  $NS:events" ]'
for w in "${WORKERS[@]}"; do shows "^$w " || fail "row of $w gone after the resize: $(screen)"; done
shows 'config_rejected' || fail "the event is gone after the resize: $(screen)"
# 60x8: one line left for the workers, saying how many did not fit; lines are clipped, not
# wrapped (each stays on its row).
"${TM[@]}" resize-window -t top -x 60 -y 8
wait_for "the truncated worker list" 10 shows '^\.\.\. 2 more workers'
screen | sed -n 2p | grep -q '^fleet ' && screen | sed -n 3p | grep -q '^messages ' ||
  fail "lines wrapped at 60 columns: $(screen)"
"${TM[@]}" resize-window -t top -x 120 -y 40
wait_for "the events pane back at 120x40" 10 shows '^EVENTS '
wait_for "the event still listed" 5 shows 'config_rejected'

"${TM[@]}" send-keys -t top q
restored 0
log "q: exit 0, terminal restored"

# ---- Ctrl-C, in a locale that is not UTF-8: an ASCII sparkline ----
run_top C --interval 0.5
wait_for "an ASCII sparkline" 10 shows 'msgs/s +[_.~=+*#-]*[.~=+*#-]'
! shows '[▁▂▃▄▅▆▇█]' || fail "block characters in the C locale: $(screen)"
"${TM[@]}" send-keys -t top C-c
restored 0 130
log "Ctrl-C: terminal restored"

# ---- SIGTERM, and Redis lost and back ----
run_top C.UTF-8 --interval 0.5
wait_for "a worker row" 10 shows "^${WORKERS[0]} "
kill -TERM -- "-$REDIS_PGID"
wait_for "redis-server to exit" 10 group_gone "$REDIS_PGID"
wait_for "the Redis error in the view" 10 shows '^Redis: .*retrying every 0\.5s; data from'
shows "^${WORKERS[0]} " || fail "the last data is gone from the view: $(screen)"
spawn "$T/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T" \
  --save "" --daemonize no "${REDIS_ARGS[@]}"
REDIS_PGID=$LAST_PGID
server_up "$REDIS_PGID" redis-cli -p "$REDIS_PORT" ping || fail "redis-server did not restart"
wait_eval "the error gone after Redis came back" 15 '! shows "^Redis: "'
top_pid=$(pgrep -P "$(pane '#{pane_pid}')" -x swarm-cli) || fail "no swarm-cli under the tmux shell"
kill -TERM "$top_pid"
restored 0
log "SIGTERM: terminal restored; Redis loss shown and recovered"
