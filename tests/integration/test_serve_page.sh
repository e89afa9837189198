#!/bin/bash
# tests/integration/test_serve_page.sh — the status page of `xgw serve` in
# headless Chromium (Debian's chromium, installed here when missing; the test
# fails, never skips, when it cannot be installed).
#
# Three instances on the mock (binance with a second, dead endpoint so the page
# shows a DEGRADED instance and an UNHEALTHY endpoint; bitunix; hyperliquid)
# and live binance streams. Chromium loads http://127.0.0.1:<port>/ with a
# virtual-time budget long enough for the page's fetches of /status.json;
# --dump-dom's rendered text must name every instance, plugin and endpoint
# URL, their health, the subscriptions and their state. A screenshot
# (1280x900) is saved to $XGW_BUILD_DIR/serve-status.png.
. "$(dirname "$0")/lib_mock.sh"
. "$(dirname "$0")/lib_serve.sh"
need_pkg chromium chromium

mock_start --seed 5
DEAD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
serve_config "$TMP/serve.ini" -- \
    "binance_main:binance:rest_endpoints = https://127.0.0.1:$MOCK_PORT, https://127.0.0.1:$DEAD_PORT;health_interval_s = 1;health_max_failures = 1;connect_timeout_ms = 300;streams = ticker:BTCUSDT, book:BTCUSDT:10, trades:BTCUSDT+ETHUSDT" \
    "bitunix_alt:bitunix" "hl_vault:hyperliquid"
serve_start "$TMP/serve.ini"

# Wait until every endpoint was checked and the streams carry data, so the
# page has something real to show.
for _ in $(seq 150); do
    get /status.json
    python3 - "$TMP/body" <<'EOF' 2>/dev/null && break
import json, sys
s = json.load(open(sys.argv[1]))
assert all(e["state"] != "UNKNOWN" for i in s["health"]["instances"] for e in i["endpoints"])
assert s["subscriptions"] and all(x["messages"] > 0 for x in s["subscriptions"])
EOF
    sleep 0.1
done

chrome() { # chrome ARGS... URL: one headless run with a fresh profile
    local prof
    prof=$(mktemp -d "$TMP/chrome.XXXXXX")
    timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
        --user-data-dir="$prof" "$@" 2>>"$TMP/chrome.err"
}

chrome --virtual-time-budget=5000 --dump-dom "$SERVE_URL/" >"$TMP/dom.html"
[ -s "$TMP/dom.html" ] || fail "chromium --dump-dom printed nothing: $(tail -n 5 "$TMP/chrome.err")"
python3 - "$TMP/dom.html" "$MOCK_PORT" "$DEAD_PORT" <<'EOF' 2>"$TMP/py.out" || fail "rendered page: $(tail -n 4 "$TMP/py.out")"
import re, sys, html
dom = open(sys.argv[1]).read()
mock, dead = sys.argv[2], sys.argv[3]
body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))
def has(s):
    assert s in text, "missing %r in the rendered text: %s" % (s, text[:3000])
assert "Waiting for /status.json" not in text, "the page never rendered the status: " + text[:500]
assert not re.search(r"Cannot reach the gateway", text), text[:500]
for inst, plugin in (("binance_main", "binance"), ("bitunix_alt", "bitunix"), ("hl_vault", "hyperliquid")):
    has(inst)
    has(plugin)
has("https://127.0.0.1:%s" % mock)
has("https://127.0.0.1:%s" % dead)
# every instance's card lists its endpoint URL(s): count the mock URL once per instance
assert text.count("https://127.0.0.1:%s " % mock) + text.count("https://127.0.0.1:%s" % mock) >= 3, text
has("DEGRADED")      # binance_main: one endpoint down
has("UNHEALTHY")     # ... the dead endpoint
has("HEALTHY")
has("closed")        # breaker states
has("Rate-limit budget")
has("request_weight_1m")
has("ticker BTCUSDT")
has("book BTCUSDT")
has("trades BTCUSDT,ETHUSDT")
has("live")
has("last gap")
EOF

shot="${XGW_BUILD_DIR:-$TMP}/serve-status.png"
rm -f "$shot"
chrome --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,900 --screenshot="$shot" "$SERVE_URL/" >/dev/null
python3 - "$shot" <<'EOF' 2>"$TMP/py.out" || fail "screenshot: $(tail -n 2 "$TMP/py.out")"
import struct, sys, os
p = sys.argv[1]
d = open(p, "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (1280, 900), (w, h)
assert len(d) > 20000, "suspiciously small (blank?) screenshot: %d bytes" % len(d)
EOF
echo "# screenshot: $shot"

serve_stop
[ "$SERVE_RC" = 0 ] || fail "serve exit $SERVE_RC"
mock_finish
