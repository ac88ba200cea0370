#!/usr/bin/env bash
# (deploy) ansible/ passes ansible-lint at the production profile (offline: nothing is
# downloaded; ansible.posix comes from the Debian ansible package or is mocked) and
# `ansible-playbook --syntax-check` for every playbook against the example inventory.
# Runs with HOME and the caches inside the test's directory.
source "$(dirname "$0")/lib.sh"

for tool in ansible-lint ansible-playbook; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps installs ansible and ansible-lint)"; exit $SKIP; }
done
ANSIBLE_DIR=$(cd "$(dirname "$0")/../../ansible" && pwd)
# ansible-lint lints the files of the directory it runs in; a copy keeps anything it might
# write (caches, mocks) out of the source tree.
cp -r "$ANSIBLE_DIR" "$T/ansible"
mkdir -p "$T/home" "$T/cache"
export HOME=$T/home XDG_CACHE_HOME=$T/cache ANSIBLE_HOME=$T/home/.ansible \
  ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_NOCOLOR=1 NO_COLOR=1 ANSIBLE_CONFIG=$T/ansible/ansible.cfg

cd "$T/ansible"
playbooks=(site.yml start.yml stop.yml scale.yml rolling-restart.yml)
for p in "${playbooks[@]}"; do
  [ -f "$p" ] || fail "playbook $p missing"
  ansible-playbook --syntax-check -i inventory/example/hosts.yml "$p" >"$T/syntax-$p.out" 2>&1 ||
    { cat "$T/syntax-$p.out"; fail "syntax check of $p failed"; }
done
log "syntax-check: ${playbooks[*]}"

t0=$(now_ms)
timeout 150 ansible-lint --nocolor --profile production </dev/null >"$T/lint.out" 2>&1 ||
  { cat "$T/lint.out"; fail "ansible-lint --profile production found problems"; }
grep -q "Passed with production profile" "$T/lint.out" || { cat "$T/lint.out"; fail "no production pass line"; }
log "ansible-lint: $(grep 'Passed with' "$T/lint.out") ($(( $(now_ms) - t0 )) ms)"

# An inventory that does not exist, or has no host in the groups a playbook needs, is an error
# (it was "no hosts matched" and exit 0).
set +e
timeout 60 ansible-playbook -i inventory/lab/hosts.yml site.yml >"$T/noinv.out" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "site.yml with a missing inventory exited 0: $(tail -5 "$T/noinv.out")"
grep -q "No inventory was parsed" "$T/noinv.out" || fail "$(tail -5 "$T/noinv.out")"
mkdir -p "$T/empty-inv"
printf 'all:\n  children:\n    coordinator:\n      hosts: {}\n    agents:\n      hosts: {}\n' >"$T/empty-inv/hosts.yml"
for p in "${playbooks[@]}"; do
  set +e
  timeout 60 ansible-playbook -i "$T/empty-inv/hosts.yml" "$p" >"$T/empty-$p.out" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$p with no hosts exited 0: $(tail -5 "$T/empty-$p.out")"
  grep -q "no host in group" "$T/empty-$p.out" || fail "$p: $(tail -5 "$T/empty-$p.out")"
done
log "a missing inventory and one without hosts are errors for every playbook"
