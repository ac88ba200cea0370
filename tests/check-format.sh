#!/usr/bin/env bash
# Every C source and header tracked by git is as .clang-format lays it out.
# Usage: tests/check-format.sh SOURCE_DIR   (scripts/format rewrites what differs)
set -euo pipefail
cd "${1:?usage: check-format.sh SOURCE_DIR}"
command -v clang-format >/dev/null || { echo "SKIP: clang-format not installed (scripts/deps)"; exit 77; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "SKIP: not a git checkout"; exit 77; }
bad=()
while IFS= read -r f; do
  clang-format --style=file "$f" | cmp -s - "$f" || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
  echo "not formatted (run scripts/format): ${bad[*]}" >&2
  exit 1
fi
echo "$(git ls-files '*.c' '*.h' | wc -l) files formatted"
