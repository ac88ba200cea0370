#!/usr/bin/env bash
# (deploy) What cmake/packaging.cmake installs, from the build tree CS_BIN belongs to:
# `cmake --install` into a temporary prefix lays out the programs, the sample configs (which
# the programs accept as they are and with every option uncommented), man pages, and systemd
# units whose ExecStart names the prefix and which carry the limits and hardening; then
# `cpack -G DEB` builds the package: control fields, runtime Depends from dpkg-shlibdeps, no
# conffiles, and the layout unpacked with dpkg -x into a throwaway root. Nothing is installed
# on this machine.
source "$(dirname "$0")/lib.sh"

B=$(cd "$CS_BIN/.." && pwd)
[ -f "$B/CMakeCache.txt" ] || { echo "SKIP: $B is not a CMake build tree"; exit $SKIP; }
[ -f "$B/CPackConfig.cmake" ] || { echo "SKIP: $B was configured without cmake/packaging.cmake"; exit $SKIP; }
for tool in cmake cpack; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit $SKIP; }
done
PROGS=(swarm-agent swarm-coordinator swarm-cli)

# ---- cmake --install ----------------------------------------------------------------------------
P=$T/prefix
cmake --install "$B" --prefix "$P" >"$T/install.out" 2>&1 || { cat "$T/install.out"; fail "cmake --install failed"; }
for p in "${PROGS[@]}"; do
  [ -x "$P/bin/$p" ] || fail "bin/$p not installed"
  [ -f "$P/share/doc/chargeswarm/examples/$p.conf" ] || fail "sample $p.conf not installed"
done
[ -f "$P/share/doc/chargeswarm/examples/scenarios/boot-storm.json" ] || fail "scenario examples not installed"
[ -f "$P/share/doc/chargeswarm/results.md" ] || fail "docs/results.md not installed"
[ ! -e "$P/etc" ] || fail "something was installed under etc/: $(find "$P/etc")"
if grep -q '^HELP2MAN:FILEPATH=/' "$B/CMakeCache.txt"; then
  for p in "${PROGS[@]}"; do
    m=$P/share/man/man1/$p.1.gz
    [ -f "$m" ] || fail "man page $p.1.gz not installed"
    zcat "$m" | grep '^\.TH "\?'"${p^^}" >/dev/null || fail "$p.1.gz is not a man page"
    zcat "$m" | grep -- 'stop\|redis' >/dev/null || fail "$p.1.gz does not document the options"
  done
  # swarm-cli's command list: one term with its text per command (help2man ran the rows whose
  # usage filled the column into one paragraph)
  m=$P/share/man/man1/swarm-cli.1.gz
  want=$(( $("$P/bin/swarm-cli" --help | grep -cE '^  [a-z]+ ' ) ))
  got=$(zcat "$m" | grep -c '^\.TP')
  [ "$got" -ge "$want" ] || fail "swarm-cli.1: $got terms for $want command rows"
  ! zcat "$m" | grep -q 'scale N .*catalog load\|set the fleet size.*catalog' || fail "swarm-cli.1: command rows run together"
else
  log "help2man was not found when $B was configured: no man pages to check"
fi

# The sample configs: valid as shipped (all commented out) and with every option set.
for p in "${PROGS[@]}"; do
  s=$P/share/doc/chargeswarm/examples/$p.conf
  env -u SWARM_REDIS -u SWARM_NAMESPACE -u SWARM_LOG_LEVEL "$P/bin/$p" --config "$s" --print-config \
    >"$T/$p.shipped.txt" 2>&1 || { cat "$T/$p.shipped.txt"; fail "$p rejects its sample config"; }
  sed 's/^#\([a-z-]* = \)/\1/' "$s" >"$T/$p.all.conf"
  n=$(grep -cE '^[a-z-]+ = ' "$T/$p.all.conf")
  [ "$n" -ge 3 ] || fail "sample $p.conf documents only $n options"
  env -u SWARM_REDIS -u SWARM_NAMESPACE -u SWARM_LOG_LEVEL "$P/bin/$p" --config "$T/$p.all.conf" --print-config \
    >"$T/$p.all.txt" 2>&1 || { cat "$T/$p.all.txt"; fail "$p rejects its sample config with every option set"; }
  [ "$(grep -c " file $T/$p.all.conf:" "$T/$p.all.txt")" -eq "$n" ] || { cat "$T/$p.all.txt"; fail "$p: not every option came from the file"; }
done

# The systemd units.
U=$P/lib/systemd/system
for u in swarm-agent swarm-coordinator; do
  f=$U/$u.service
  [ -f "$f" ] || fail "$u.service not installed"
  grep -q "^ExecStart=$P/bin/$u " "$f" || fail "$u.service: ExecStart does not name $P/bin: $(grep ExecStart "$f")"
  for line in Restart=on-failure KillSignal=SIGTERM KillMode=mixed NoNewPrivileges=yes \
      ProtectSystem=strict ProtectHome=yes PrivateTmp=yes User=chargeswarm \
      "EnvironmentFile=-/etc/default/$u" 'TimeoutStopSec=[0-9]+s' 'LimitNOFILE=[0-9]+'; do
    grep -qE "^$line\$" "$f" || fail "$u.service lacks $line"
  done
done
grep -q '^LimitNOFILE=1048576$' "$U/swarm-agent.service" || fail "agent LimitNOFILE is not 1048576"
# TimeoutStopSec covers the agent's graceful stop: --stop-timeout (default 10 s) + 3 s.
stop_s=$(sed -nE 's/^TimeoutStopSec=([0-9]+)s$/\1/p' "$U/swarm-agent.service")
[ "$stop_s" -gt 13 ] || fail "agent TimeoutStopSec=${stop_s}s does not cover the 10 s stop + 3 s"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$U/swarm-agent.service" "$U/swarm-coordinator.service" >"$T/verify.out" 2>&1 ||
    { cat "$T/verify.out"; fail "systemd-analyze verify rejects the units"; }
fi
log "cmake --install: programs, samples, units$(grep -q '^HELP2MAN:FILEPATH=/' "$B/CMakeCache.txt" && echo ', man pages') in place"

# ---- the Debian package ------------------------------------------------------------------------
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { log "SKIP the .deb part: $tool not installed (dpkg-dev)"; exit 0; }
done
t0=$(now_ms)
(cd "$B" && cpack -G DEB -B "$T/pkg") >"$T/cpack.out" 2>&1 || { cat "$T/cpack.out"; fail "cpack -G DEB failed"; }
deb=$(ls "$T"/pkg/chargeswarm_*.deb)
[ -f "$deb" ] || fail "no .deb in $T/pkg"
dpkg-deb -f "$deb" >"$T/control.txt"
field() { sed -nE "s/^$1: //p" "$T/control.txt"; }
[ "$(field Package)" = chargeswarm ] || fail "Package: $(field Package)"
[ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] || fail "control: $(cat "$T/control.txt")"
field Version | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$' || fail "Version: $(field Version)"
deps=$(field Depends)
for d in 'libhiredis0\.14' 'libevent-core-2\.1-7' 'libcjson1' 'libpaho-mqtt1\.3' 'libc6' 'adduser'; do
  echo "$deps" | grep -qE "(^|, )$d( |,|$)" || fail "Depends lacks $d: $deps"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$T/ctrl.txt"
grep -q 'conffiles' "$T/ctrl.txt" && fail "the package has conffiles: samples belong in /usr/share/doc"
for s in postinst prerm postrm; do grep -q "$s" "$T/ctrl.txt" || fail "no $s script"; done
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files.txt"
grep -q '^\./etc' "$T/files.txt" && fail "the package installs under /etc: $(grep '^\./etc' "$T/files.txt")"
R=$T/root
dpkg -x "$deb" "$R"
for p in "${PROGS[@]}"; do
  [ -x "$R/usr/bin/$p" ] || fail "/usr/bin/$p not in the package"
  "$R/usr/bin/$p" --version >/dev/null || fail "/usr/bin/$p from the package does not run"
  [ -f "$R/usr/share/doc/chargeswarm/examples/$p.conf" ] || fail "example $p.conf not in the package"
done
for u in swarm-agent swarm-coordinator; do
  grep -q "^ExecStart=/usr/bin/$u " "$R/usr/lib/systemd/system/$u.service" || fail "packaged $u.service: $(grep ExecStart "$R/usr/lib/systemd/system/$u.service")"
done
for f in copyright changelog.Debian.gz; do
  [ -f "$R/usr/share/doc/chargeswarm/$f" ] || fail "/usr/share/doc/chargeswarm/$f missing"
done
[ -f "$R/usr/lib/sysusers.d/chargeswarm.conf" ] || fail "sysusers.d file missing"
[ -f "$R/usr/share/doc/chargeswarm/examples/scenarios/ramp-and-hold.json" ] || fail "scenario examples not in the package"
log "ok: $(basename "$deb") ($(( $(now_ms) - t0 )) ms): Depends: $deps; $(grep -c . "$T/files.txt") entries"
