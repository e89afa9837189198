#!/usr/bin/env bash
# Smoke run of the benchmarks (tools/bench/run.sh --smoke): a few hundred requests, signatures and
# frames through every path (xgw sequential on both loop modes, xgw async at 16 and 64 in flight,
# bare curl, curl without pooling, signing of all three plugins, offline ingest, live ingest from
# the flooding mock, WS recovery after a dropped connection, REST failover after an endpoint's death, the demo footprint, `xgw check`). Asserts only that every measurement ran
# without errors and that the JSON and Markdown outputs are complete and well-formed: no timing.
# The Python comparison is not part of it (python3-requests is optional; run.sh requires it).
set -euo pipefail
src=${XGW_SOURCE_DIR:?} build=${XGW_BUILD_DIR:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run.sh stops its mock exchanges itself (by PID, on exit); the timeout bounds the whole run, a hang
# and not a speed (about 30 s in an ASan build on a busy 2-core machine), inside ctest's 300 s so that
# this script still prints run.sh's output.
if ! timeout 240 bash "$src/tools/bench/run.sh" "$build" --smoke --reps 1 --out "$out" >"$out/stdout" 2>"$out/stderr"; then
  echo "FAIL: run.sh --smoke failed"; cat "$out/stderr" "$out/stdout"; exit 1
fi

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
fail = []
s = json.load(open(out + "/summary.json"))
if s["problems"]:
    fail.append("problems: %s" % s["problems"])
rows = {(r["bench"], r["client"], r["inflight"]): r for r in s["rows"]}
want = [("rest_seq", c, 1) for c in ("curl", "xgw", "xgw_host", "fresh")]
want += [("rest_conc", c, k) for k in (16, 64) for c in ("curl", "xgw")]
want += [("sign", c, 0) for c in ("openssl_hmac", "binance_hmac", "bitunix_sha256x2", "hyperliquid_eip712")]
want += [("ingest", c, 0) for c in ("depth_cjson", "depth_plugin", "depth_book", "ticker_cjson", "ticker_plugin")]
want += [("live", "xgw_ticker", 0)]
for k in want:
    r = rows.get(k)
    if r is None:
        fail.append("missing row %s" % (k,))
    elif not (r.get("rate", 0) > 0 and r.get("cpu_us", 0) > 0):
        fail.append("row %s has no rate/CPU: %s" % (k, r))
for k, f in ((("footprint", "xgw_demo", 0), "peak_rss_mib"), (("recovery", "ws_drop", 0), "p50_ms"), (("failover", "rest_endpoint_death", 0), "p50_ms"), (("exec", "xgw check", 0), "p50_ms")):
    if not rows.get(k, {}).get(f, 0) > 0:
        fail.append("row %s has no %s" % (k, f))
# every results line is a JSON object with errors == 0 and the measured count
for ln, line in enumerate(open(out + "/results.jsonl"), 1):
    r = json.loads(line)
    if r.get("errors") != 0 or not r.get("n", 0) > 0:
        fail.append("results line %d: %s" % (ln, line.strip()))
names = [t["name"] for t in s["targets"]]
for t in s["targets"]:
    if t["value"] is None:
        fail.append("target without a value: %s" % t["name"])
    if t["target"] is not None and t["pass"] not in (True, False):
        fail.append("target without a verdict: %s" % t["name"])
if len(names) < 12:
    fail.append("only %d comparisons" % len(names))
# Markdown: two tables whose rows all have their header's number of cells
md = open(out + "/summary.md").read().splitlines()
tables, cur = [], None
for line in md:
    if line.startswith("|"):
        if cur is None:
            cur = []
            tables.append(cur)
        cur.append(line)
    else:
        cur = None
if len(tables) != 2:
    fail.append("expected 2 Markdown tables, got %d" % len(tables))
for t in tables:
    n = t[0].count("|")
    if len(t) < 3 or not set(t[1]) <= set("|-: "):
        fail.append("table without header/separator: %s" % t[0])
    for line in t:
        if line.count("|") != n:
            fail.append("ragged row: %s" % line)
if len(tables) == 2 and len(tables[0]) != 2 + len(s["rows"]):
    fail.append("table rows %d != summary rows %d" % (len(tables[0]) - 2, len(s["rows"])))
if len(tables) == 2 and len(tables[1]) != 2 + len(s["targets"]):
    fail.append("comparison rows %d != targets %d" % (len(tables[1]) - 2, len(s["targets"])))
if fail:
    print("FAIL:\n  " + "\n  ".join(fail))
    sys.exit(1)
print("ok: %d measurements, %d comparisons" % (len(s["rows"]), len(s["targets"])))
PY
