#!/usr/bin/env bash
# docs/commands.md, docs/config.md and docs/stats.md are generated from the command table,
# the config schema and the stats field table; this fails when the committed files differ from
# what the tables produce.
# Regenerate with: scripts/gen-docs
set -euo pipefail
cli=$1 docs=$2
status=0
for what in commands config stats; do
  if ! diff -u "$docs/$what.md" <("$cli" docs "$what"); then
    echo "docs/$what.md is out of date: run scripts/gen-docs and commit the result" >&2
    status=1
  fi
done
exit $status
