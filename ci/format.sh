#!/usr/bin/env bash
# Formatting check of `make check`: every tracked C++ file must be exactly what clang-format 14
# makes of it under the project's .clang-format. Lists the files that differ and how to fix
# them (`make format`). With --fix, rewrites them instead.
#
#   ci/format.sh [--fix]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
command -v "$CLANG_FORMAT" >/dev/null || { echo "format: $CLANG_FORMAT not found (make deps installs it)"; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
[ ${#files[@]} -gt 0 ] || { echo "format: no C++ files found (not a git checkout?)"; exit 2; }
if [ "${1:-}" = --fix ]; then
  "$CLANG_FORMAT" -i "${files[@]}"
  echo "format: rewrote ${#files[@]} files"
  exit 0
fi
differ=()
for f in "${files[@]}"; do
  "$CLANG_FORMAT" "$f" | cmp -s - "$f" || differ+=("$f")
done
if [ ${#differ[@]} -gt 0 ]; then
  echo "format: ${#differ[@]} of ${#files[@]} files differ from .clang-format (fix: make format):"
  printf '  %s\n' "${differ[@]}"
  exit 1
fi
echo "format: all ${#files[@]} C++ files match .clang-format"
