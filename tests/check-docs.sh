#!/usr/bin/env bash
# docs/commands.md, docs/config.md, docs/stats.md and docs/devmodel.md are generated from the
# command table, the config schema, the stats field table and the device model, and parts of docs/results.md from the scenario
# schema, the threshold metrics and the run record's fields; this fails when the committed
# files differ from what the tables produce. The scenario files the docs show must pass the
# scenario checks.
# Regenerate with: scripts/gen-docs
set -euo pipefail
cli=$1 docs=$2
block="$(dirname "$0")/../scripts/docs-block"
status=0
for what in commands config stats devmodel; do
  if ! diff -u "$docs/$what.md" <("$cli" docs "$what"); then
    echo "docs/$what.md is out of date: run scripts/gen-docs and commit the result" >&2
    status=1
  fi
done
for part in scenario thresholds runs; do
  if ! diff -u <("$block" get "$docs/results.md" "$part") <("$cli" docs "$part"); then
    echo "docs/results.md (the part from \`swarm-cli docs $part\`) is out of date: run scripts/gen-docs" >&2
    status=1
  fi
done
# The scenario of README.md's "Run a test" and the examples pass `run --check` as written.
readme="$docs/../README.md"
tmp=$(mktemp)
sed -n "/^cat >smoke.json <<'JSON'$/,/^JSON$/p" "$readme" | sed '1d;$d' >"$tmp"
if [ ! -s "$tmp" ] || ! "$cli" run --check "$tmp" >/dev/null; then
  echo "README.md: the scenario of \"Run a test\" does not pass swarm-cli run --check" >&2
  status=1
fi
rm -f "$tmp"
for f in "$docs"/../examples/scenarios/*.json; do
  "$cli" run --check "$f" >/dev/null || { echo "$f does not pass swarm-cli run --check" >&2; status=1; }
done
exit $status
