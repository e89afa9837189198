#!/usr/bin/env bash
# The README's demo (tools/demo.sh) runs to the end against the mock for all three exchanges,
# and leaves no mock process behind.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# a bound on a hang, not a speed: about 50 s in an ASan build on a busy 2-core machine; inside
# ctest's 300 s so that the output below is still printed
timeout -k 5 240 bash "$XGW_SOURCE_DIR/tools/demo.sh" "$XGW_BUILD_DIR" >"$out" 2>&1
rc=$?
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: demo exited $rc"; fail=1; }
grep -q '^# demo done$' "$out" || { echo "FAIL: demo did not finish"; fail=1; }
for ex in binance bitunix hyperliquid; do
  grep -q "\"exchange\":\"$ex\".*\"status\":\"canceled\"" "$out" || { echo "FAIL: no cancelled order for $ex"; fail=1; }
done
grep -q '"channel":"book"' "$out" || { echo "FAIL: no book event"; fail=1; }
pid=$(sed -n 's/^# mock exchange on .* (pid \([0-9]*\))$/\1/p' "$out")
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "FAIL: mock $pid left running"; kill -KILL "$pid"; fail=1; fi
[ "$fail" -eq 0 ] || { cat "$out"; exit 1; }
echo "ok: demo ran for binance, bitunix and hyperliquid"
