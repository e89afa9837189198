#!/usr/bin/env bash
# tools/lint.sh — static analysis of core/, plugins/ and tools/: clang-tidy
# (checks in .clang-tidy: bugprone, cert, clang-analyzer; every finding is an
# error) and cppcheck (warning, portability, performance; suppressions only
# for justified false positives, in tools/cppcheck-suppressions.txt).
# Exits non-zero on any finding.
#
#   tools/lint.sh [BUILD_DIR]
#
# XGW_LINT_TOOLS picks the tools (default "clang-tidy cppcheck"). On a
# 2-core machine with XGW_JOBS=2 clang-tidy takes about 2 minutes (2.5 min of
# CPU, most of it in the path-sensitive clang-analyzer checks), cppcheck
# about 20 s. The clang-tidy half also needs python3 (see below).
#
# BUILD_DIR holds compile_commands.json (the top CMakeLists exports it);
# default $XGW_LINT_BUILD_DIR or build-lint/, configured here when missing
# (configuring is enough: nothing needs to be built). $XGW_JOBS (default 2)
# clang-tidy processes run at once.
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${XGW_LINT_BUILD_DIR:-$src/build-lint}}
jobs=${XGW_JOBS:-2}
tools=${XGW_LINT_TOOLS:-clang-tidy cppcheck}
for tool in $tools; do
  if ! command -v $tool >/dev/null; then
    echo "lint.sh: $tool is needed (Debian: apt-get install clang-tidy cppcheck)" >&2
    exit 2
  fi
done
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null || exit 2
fi

cd "$src" || exit 2
mapfile -t files < <(ls core/*.c plugins/*/*.c tools/*/*.c)
rc=0

# One translation unit per clang-tidy process. clang-tidy 14's analyzer carries
# state from one unit to the next: in a later one its va_list checker reports
# every va_list as uninitialized right after va_start/va_copy. Hence -n1, and
# a database with one entry per file: clang-tidy analyzes a file once per
# entry, and the fuzz and test targets compile the mock's modules and
# keccak.c again (up to five entries each). The first entry is the product's.
# -Wno-unknown-warning-option: the database may come from a gcc build.
tidy_db=
if [[ " $tools " == *" clang-tidy "* ]]; then
  tidy_db=$(mktemp -d "${TMPDIR:-/tmp}/xgw-lint.XXXXXX") || exit 2
  trap 'rm -rf "$tidy_db"' EXIT
  python3 - "$build/compile_commands.json" "$tidy_db/compile_commands.json" <<'PY'
import json, sys
seen, out = set(), []
for e in json.load(open(sys.argv[1])):
    if e["file"] not in seen:
        seen.add(e["file"])
        out.append(e)
json.dump(out, open(sys.argv[2], "w"), indent=1)
PY
  [ -s "$tidy_db/compile_commands.json" ] || { echo "lint.sh: cannot prepare the database (python3?)" >&2; exit 2; }
fi
if [[ " $tools " == *" clang-tidy "* ]] && echo "lint.sh: clang-tidy over ${#files[@]} files" && ! printf '%s\n' "${files[@]}" |
     xargs -P"$jobs" -n1 clang-tidy -p "$tidy_db" --quiet --extra-arg=-Wno-unknown-warning-option \
       2> >(grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed|^Use -header-filter|^Error while processing' >&2); then
  echo "lint.sh: clang-tidy found problems (above)" >&2
  rc=1
fi

[[ " $tools " == *" cppcheck "* ]] || { [ $rc -eq 0 ] && echo "lint.sh: clean"; exit $rc; }
echo "lint.sh: cppcheck"
# --project feeds cppcheck the real include paths and defines;
# -i (relative to the source root, where we are) skips tests/, which the
# database also lists.
if ! cppcheck --project="$build/compile_commands.json" --enable=warning,portability,performance \
       --error-exitcode=1 --inline-suppr --quiet -j"$jobs" \
       --suppressions-list="$src/tools/cppcheck-suppressions.txt" \
       -itests/ \
       --template='{file}:{line}: {severity}: {message} [{id}]'; then
  echo "lint.sh: cppcheck found problems (above)" >&2
  rc=1
fi

[ $rc -eq 0 ] && echo "lint.sh: clean"
exit $rc
