#!/usr/bin/env python3
"""Summarise tools/bench/run.sh results: medians per measurement, ratios
against the bare stack measured in the same repetition (median over the
repetitions), and the issue's targets with PASS/FAIL.

usage: report.py RESULTS.jsonl MACHINE.json OUT_DIR [--smoke]
Writes OUT_DIR/summary.json and OUT_DIR/summary.md, prints the Markdown.
Exit 1 when a measurement is missing or reported errors (never for a missed
target: targets are measured facts, not test assertions)."""
import json
import statistics
import sys
from collections import defaultdict


def key(r):
    return (r["bench"], r["client"], r.get("inflight", 0))


def main():
    results, machine_path, out_dir = sys.argv[1:4]
    smoke = "--smoke" in sys.argv[4:]
    machine = json.load(open(machine_path))
    runs = defaultdict(list)  # key -> list of rows, one per repetition, in order
    problems = []
    for ln, line in enumerate(open(results), 1):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            problems.append("line %d is not JSON: %.80s" % (ln, line))
            continue
        if r.get("errors", 0):
            problems.append("%s/%s reported %d errors" % (r["bench"], r["client"], r["errors"]))
        runs[key(r)].append(r)

    expected = [("rest_seq", c, 1) for c in ("curl", "xgw", "xgw_host", "fresh")]
    if not smoke:
        expected += [("rest_seq", "python_pool", 1), ("rest_seq", "python_nopool", 1)]
    expected += [("rest_conc", c, k) for k in (16, 64) for c in ("curl", "xgw")]
    expected += [("sign", c, 0) for c in ("openssl_hmac", "binance_hmac", "bitunix_sha256x2",
                                          "hyperliquid_eip712")]
    expected += [("ingest", c, 0) for c in ("depth_cjson", "depth_plugin", "depth_book", "ticker_cjson",
                                            "ticker_plugin")]
    foot = ("footprint", "xgw_demo", 0)
    expected += [("live", "xgw_ticker", 0), ("recovery", "ws_drop", 0), ("failover", "rest_endpoint_death", 0),
                 foot, ("exec", "xgw check", 0)]
    for k in expected:
        if k not in runs:
            problems.append("no result for %s/%s%s" % (k[0], k[1], " x%d" % k[2] if k[2] > 1 else ""))

    def med(k, field):
        v = [r[field] for r in runs.get(k, []) if field in r]
        return statistics.median(v) if v else None

    def ratio(a, b, field, invert=False):
        """Median over repetitions of a/b (b/a when invert), pairing the i-th run of each."""
        ra, rb = runs.get(a, []), runs.get(b, [])
        v = []
        for x, y in zip(ra, rb):
            num, den = (y[field], x[field]) if invert else (x[field], y[field])
            if den:
                v.append(num / den)
        return statistics.median(v) if v else None

    # ---- medians ----
    rows = []
    units = {"rest_seq": "req/s", "rest_conc": "req/s", "sign": "sig/s", "ingest": "msg/s", "live": "msg/s"}
    for k in sorted(runs, key=lambda k: (expected.index(k) if k in expected else 999, k)):
        b, c, inflight = k
        row = {"bench": b, "client": c, "inflight": inflight, "reps": len(runs[k])}
        for f in ("rate", "cpu_us", "csw", "p50_us", "p99_us", "peak_rss_mib", "p50_ms", "p99_ms",
                  "backoff_initial_ms"):
            m = med(k, f)
            if m is not None:
                row[f] = m
        row["unit"] = units.get(b, "")
        rows.append(row)

    # ---- ratios and targets ----
    S = lambda c, k=1: ("rest_seq", c, k)
    C = lambda c, k: ("rest_conc", c, k)
    I = lambda c: ("ingest", c, 0)
    targets = []

    def target(name, value, op, bound, note=""):
        ok = None if value is None or bound is None else (value <= bound if op == "<=" else value >= bound)
        targets.append({"name": name, "value": value, "op": op, "target": bound, "pass": ok, "note": note})

    for x, label in (("xgw", "xgw (loop thread)"), ("xgw_host", "xgw (host-driven loop)")):
        target("REST seq: CPU/request %s / bare curl" % label, ratio(S(x), S("curl"), "cpu_us"), "<=", 1.25)
        target("REST seq: req/s %s / bare curl" % label, ratio(S(x), S("curl"), "rate"), ">=", 0.9)
        if not smoke:
            target("REST seq: req/s %s / Python requests pooled" % label, ratio(S(x), S("python_pool"), "rate"),
                   ">=", 5.0)
    target("REST conc 16: req/s xgw async / curl multi", ratio(C("xgw", 16), C("curl", 16), "rate"), ">=", 0.8)
    target("REST conc 64: req/s xgw async / curl multi", ratio(C("xgw", 64), C("curl", 64), "rate"), "", None,
           "no target")
    target("REST seq: req/s no pooling (fresh handle) / bare curl", ratio(S("fresh"), S("curl"), "rate"), "", None,
           "no target")
    if not smoke:
        target("REST seq: req/s Python no pooling / Python pooled",
               ratio(S("python_nopool"), S("python_pool"), "rate"), "", None, "no target")
    target("Ingest depth: plugin parse / bare cJSON", ratio(I("depth_plugin"), I("depth_cjson"), "rate"), ">=", 0.7)
    target("Ingest ticker: plugin parse / bare cJSON", ratio(I("ticker_plugin"), I("ticker_cjson"), "rate"), ">=",
           0.7)
    target("Ingest depth: parse + book / bare cJSON", ratio(I("depth_book"), I("depth_cjson"), "rate"), ">=", 0.5)
    target("Sign: Binance build+HMAC / bare OpenSSL HMAC()",
           ratio(("sign", "binance_hmac", 0), ("sign", "openssl_hmac", 0), "rate"), "", None, "no target")
    # WS recovery bound: 2 x (initial back-off + TLS handshake + subscribe round trip); a fresh
    # connection's request (TCP + TLS + one round trip, the "fresh" client) stands for the last two.
    rec = med(("recovery", "ws_drop", 0), "p50_ms")
    fresh = med(S("fresh"), "p50_us")
    backoff = med(("recovery", "ws_drop", 0), "backoff_initial_ms")
    bound = 2 * (backoff + fresh / 1000.0) if backoff is not None and fresh is not None else None
    target("WS recovery p50 (ms) vs 2 x (back-off + TLS handshake + round trip)", rec, "<=",
           round(bound, 1) if bound is not None else None)
    # REST failover: the kill, one failed attempt on the dead endpoint (refused at once on loopback),
    # the retry back-off (full jitter below retry_backoff_ms) and one request on the next endpoint.
    target("REST failover p50 (ms): endpoint death to first read on the next",
           med(("failover", "rest_endpoint_death", 0), "p50_ms"), "", None, "no target")
    target("Footprint: demo peak RSS (MiB)", med(foot, "peak_rss_mib"), "<=", 32)
    target("Start-up: xgw check p50 (ms)", med(("exec", "xgw check", 0), "p50_ms"), "<=", 50)
    # The mock is not the bottleneck: the bare client's best rate against it (any concurrency)
    # over the rate xgw reaches sequentially, per repetition.
    best = []
    for i, x in enumerate(runs.get(S("xgw"), [])):
        cand = [rs[i]["rate"] for k2, rs in runs.items()
                if k2[1] == "curl" and k2[0] in ("rest_seq", "rest_conc") and len(rs) > i]
        if cand and x["rate"]:
            best.append(max(cand) / x["rate"])
    target("Mock headroom: best bare-curl req/s / xgw seq req/s", statistics.median(best) if best else None,
           ">=", 1.5)

    summary = {"machine": machine, "rows": rows, "targets": targets, "problems": problems}
    json.dump(summary, open(out_dir + "/summary.json", "w"), indent=1)

    def fmt(v, digits=1):
        if v is None:
            return "-"
        if abs(v) >= 1000:
            return "{:,.0f}".format(v)
        return "%.*f" % (digits, v)

    md = []
    m = machine
    md.append("Machine: %s, %s cores, %s, kernel %s; libcurl %s, OpenSSL %s, Python %s, requests %s; "
              "load average %.2f at start; %s; %d repetitions (medians)%s."
              % (m.get("cpu"), m.get("cores"), m.get("os"), m.get("kernel"), m.get("libcurl"), m.get("openssl"),
                 m.get("python"), m.get("requests"), m.get("loadavg", 0), m.get("date"), m.get("reps", 0),
                 ", SMOKE counts: not a measurement" if smoke else ""))
    md.append("")
    md.append("| benchmark | client | in flight | rate | unit | CPU µs/op | p50 µs | p99 µs | other |")
    md.append("|---|---|---:|---:|---|---:|---:|---:|---|")
    for r in rows:
        other = []
        if "csw" in r:
            other.append("%.2f context switches/req" % r["csw"])
        if "peak_rss_mib" in r:
            other.append("peak RSS %.1f MiB" % r["peak_rss_mib"])
        if "p50_ms" in r and r["bench"] == "recovery":
            other.append("drop to first event p50 %.1f ms, p99 %.1f ms" % (r["p50_ms"], r["p99_ms"]))
        elif "p50_ms" in r and r["bench"] == "failover":
            other.append("endpoint killed to first read on the next p50 %.1f ms, p99 %.1f ms"
                         % (r["p50_ms"], r["p99_ms"]))
        elif "p50_ms" in r:
            other.append("wall p50 %.1f ms, p99 %.1f ms" % (r["p50_ms"], r["p99_ms"]))
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["bench"], r["client"], r["inflight"] or "", fmt(r.get("rate")), r["unit"],
            fmt(r.get("cpu_us"), 2), fmt(r.get("p50_us")), fmt(r.get("p99_us")), "; ".join(other)))
    md.append("")
    md.append("| comparison (same run) | value | target | result |")
    md.append("|---|---:|---|---|")
    for t in targets:
        tgt = "%s %s" % (t["op"], t["target"]) if t["target"] is not None else t["note"]
        res = "-" if t["pass"] is None else ("PASS" if t["pass"] else "**FAIL**")
        md.append("| %s | %s | %s | %s |" % (t["name"], fmt(t["value"], 2), tgt, res))
    if problems:
        md.append("")
        md.append("Problems: " + "; ".join(problems))
    text = "\n".join(md) + "\n"
    open(out_dir + "/summary.md", "w").write(text)
    sys.stdout.write(text)
    if problems:
        sys.stderr.write("report.py: %s\n" % "; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
