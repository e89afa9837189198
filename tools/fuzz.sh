#!/usr/bin/env bash
# tools/fuzz.sh — build the libFuzzer targets (tests/fuzz) with clang and run
# each for a bounded time; exit non-zero on any crash, leak, timeout or
# out-of-memory.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target: the argument, else $XGW_FUZZ_SECONDS, else 20.
# TARGETs default to every fuzz_* target. Build tree: $XGW_FUZZ_BUILD_DIR,
# default build-fuzz/ (CC=clang, XGW_FUZZ=ON). New inputs libFuzzer finds
# go to a scratch corpus (not the checked-in one); a crashing input is saved
# as build-fuzz/artifacts/<target>/crash-* — copy it into
# tests/fuzz/corpus/<target>/ as a regression input once fixed.
#
# A longer local run, e.g. 10 minutes per target:
#   tools/fuzz.sh 600
# or one target for an hour:
#   tools/fuzz.sh 3600 fuzz_binance_rest
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-${XGW_FUZZ_SECONDS:-20}}
shift || true
build=${XGW_FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${XGW_JOBS:-2}

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is needed (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

CC=clang cmake -S "$src" -B "$build" -DXGW_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz_all >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in "$src"/tests/fuzz/corpus/fuzz_*; do targets+=("$(basename "$d")"); done
fi

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: no target $t" >&2
    exit 2
  fi
  scratch=$build/corpus/$t
  art=$build/artifacts/$t
  mkdir -p "$scratch" "$art"
  log=$build/artifacts/$t.log
  echo "fuzz.sh: $t for ${secs}s"
  # The checked-in corpus is read-only input (listed second: new units go to
  # the first directory). -timeout: one input taking 5 s is a hang;
  # -error_exitcode / -timeout_exitcode make every kind of failure visible.
  if "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -detect_leaks=1 \
       -error_exitcode=77 -timeout_exitcode=78 -print_final_stats=1 \
       -artifact_prefix="$art/" "$scratch" "$src/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/  /" || true
  else
    echo "fuzz.sh: $t FAILED (log: $log; inputs: $art/)" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${secs}s each, no crash, leak or timeout"
echo "fuzz.sh: for a longer run: tools/fuzz.sh 600   (seconds per target)"
