#!/bin/bash
# tests/integration/test_serve_health.sh — `xgw serve`: GET /health JSON shape
# and status (200 HEALTHY; 503 UNHEALTHY once the mock is gone and the health
# checks failed), the HTTP edges of the status server (404, 405, a body, an
# oversized head, keep-alive, HEAD), the listen-address rules, and shutdown:
# SIGTERM with live streams exits 0 within 1 s, SIGINT likewise.
. "$(dirname "$0")/lib_mock.sh"
. "$(dirname "$0")/lib_serve.sh"

mock_start --seed 11

# ---- a bad or refused address is a configuration error (exit 2) --------------------
serve_config "$TMP/public.ini" -- "bn:binance"
sed -i 's/^metrics_listen = .*/metrics_listen = 0.0.0.0:0/' "$TMP/public.ini"
xgw -c "$TMP/public.ini" serve
[ "$rc" = 2 ] || fail "non-loopback metrics_listen without metrics_listen_public: exit $rc, expected 2"
grep -q '"key":"metrics_listen"' "$ERR" && grep -q 'metrics_listen_public' "$ERR" ||
    fail "the refusal names neither the key nor the remedy: $(cat "$ERR")"
serve_config "$TMP/nolisten.ini" -- "bn:binance"
sed -i '/^metrics_listen = /d' "$TMP/nolisten.ini"
xgw -c "$TMP/nolisten.ini" serve
[ "$rc" = 2 ] && grep -q 'metrics_listen' "$ERR" || fail "serve without metrics_listen: exit $rc, $(cat "$ERR")"
serve_config "$TMP/badstreams.ini" -- "bn:binance:streams = ticker:BTCUSDT, candles:BTCUSDT"
xgw -c "$TMP/badstreams.ini" serve
[ "$rc" = 2 ] && grep -q '"key":"streams"' "$ERR" && grep -q 'candles' "$ERR" ||
    fail "a bad streams value: exit $rc, $(cat "$ERR")"

# ---- serve #1: two instances, live streams -----------------------------------------
serve_config "$TMP/serve.ini" -- "bn:binance:streams = ticker:BTCUSDT, book:BTCUSDT:5, trades:BTCUSDT+ETHUSDT" \
    "bx:bitunix"
serve_start "$TMP/serve.ini"
# first health checks decide within a few seconds
state=
for _ in $(seq 100); do
    get /health
    state=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$TMP/body" 2>/dev/null)
    [ "$state" = HEALTHY ] && break
    sleep 0.1
done
[ "$CODE" = 200 ] && [ "$state" = HEALTHY ] || fail "/health: HTTP $CODE state $state"
python3 - "$TMP/body" "$MOCK_PORT" <<'EOF' 2>"$TMP/py.out" || fail "/health shape: $(tail -n 3 "$TMP/py.out")"
import json, sys
h = json.load(open(sys.argv[1]))
url = "https://127.0.0.1:%s" % sys.argv[2]
assert set(h) == {"instances", "state"}, h.keys()
assert [i["instance"] for i in h["instances"]] == ["bn", "bx"], h
assert [i["plugin"] for i in h["instances"]] == ["binance", "bitunix"], h
for i in h["instances"]:
    assert i["state"] == "HEALTHY" and i["banned_until_ms"] == 0, i
    assert len(i["endpoints"]) == 1, i
    e = i["endpoints"][0]
    for k in ("url", "state", "breaker", "consecutive_failures", "last_latency_ms", "last_error", "checks", "failures"):
        assert k in e, (k, e)
    assert e["url"] == url and e["state"] == "HEALTHY" and e["breaker"] == "closed", e
    assert e["checks"] >= 1 and e["failures"] == 0 and e["last_latency_ms"] > 0, e
EOF

# streams are live: /status.json lists the three subscriptions with messages
ok_streams=
for _ in $(seq 100); do
    get /status.json
    if python3 - "$TMP/body" <<'EOF' 2>"$TMP/py.out"; then ok_streams=1; break; fi
import json, sys
s = json.load(open(sys.argv[1]))
subs = s["subscriptions"]
assert [(x["instance"], x["channel"], x["symbols"], x["depth"]) for x in subs] == [
    ("bn", "ticker", ["BTCUSDT"], 0), ("bn", "book", ["BTCUSDT"], 5), ("bn", "trades", ["BTCUSDT", "ETHUSDT"], 0)], subs
assert all(x["state"] == "live" and x["messages"] > 0 for x in subs), subs
assert s["streams"][0]["instance"] == "bn" and s["streams"][0]["channels"]["book"]["messages"] > 0, s["streams"]
assert s["health"]["state"] == "HEALTHY" and len(s["metrics"]["exchanges"]) == 2
EOF
    sleep 0.1
done
[ -n "$ok_streams" ] || fail "/status.json streams: $(tail -n 3 "$TMP/py.out")"

# ---- HTTP edges -----------------------------------------------------------------------
get /nope
[ "$CODE" = 404 ] || fail "GET /nope: $CODE"
get /health -X POST
[ "$CODE" = 405 ] || fail "POST /health: $CODE"
get '/metrics?format=xml'
[ "$CODE" = 400 ] || fail "GET /metrics?format=xml: $CODE"
get /health -I
[ "$CODE" = 200 ] || fail "HEAD /health: $CODE"
get / -D "$TMP/headers"
[ "$CODE" = 200 ] && grep -qi '^content-type: text/html' "$TMP/headers" && grep -q '<title>xgw status</title>' "$TMP/body" ||
    fail "GET /: $CODE $(head -c 300 "$TMP/headers")"
grep -qi "^content-security-policy: default-src 'none'" "$TMP/headers" || fail "GET /: no Content-Security-Policy"
if grep -Eqi '(src|href)="(https?:)?//' "$TMP/body"; then fail "the status page references an external asset"; fi
python3 - "$SERVE_PORT" <<'EOF' 2>"$TMP/py.out" || fail "raw HTTP: $(tail -n 3 "$TMP/py.out")"
import socket, sys, http.client
port = int(sys.argv[1])
# keep-alive: three requests on one connection
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for path in ("/health", "/metrics", "/status.json"):
    c.request("GET", path)
    r = r_ = c.getresponse()
    body = r.read()
    assert r.status == 200 and len(body) > 10, (path, r.status)
    assert r.getheader("Connection") == "keep-alive", r.getheaders()
c.close()
def raw(data, expect):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    assert got.startswith(b"HTTP/1.1 " + expect), (data[:40], got[:100])
    return got
# a body is refused and the connection closed
raw(b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", b"413")
# an oversized head (> 8 KiB) is refused
raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n", b"431")
# garbage request line
raw(b"HELLO\r\n\r\n", b"400")
# HTTP/1.0 without keep-alive: answered, then closed
got = raw(b"GET /health HTTP/1.0\r\n\r\n", b"200")
assert b"Connection: close" in got
EOF

# ---- SIGTERM with live streams: exit 0 within 1 s ----------------------------------------
serve_stop
[ "$SERVE_RC" = 0 ] || fail "SIGTERM: exit $SERVE_RC"
[ "$SERVE_STOP_MS" -lt 1000 ] || fail "SIGTERM: took $SERVE_STOP_MS ms (limit 1000)"
grep -q '"event":"stopped","signal":"SIGTERM"' "$SERVE_OUT" || fail "no stopped line: $(cat "$SERVE_OUT")"
echo "# SIGTERM stop took $SERVE_STOP_MS ms"

# ---- serve #2: the mock goes away -> UNHEALTHY -> 503 ---------------------------------------
serve_config "$TMP/serve2.ini" -- \
    "bn:binance:health_interval_s = 1;health_timeout_s = 1;health_max_failures = 1;connect_timeout_ms = 500;streams = ticker:BTCUSDT"
serve_start "$TMP/serve2.ini"
for _ in $(seq 100); do
    get /health
    grep -q '"state":"HEALTHY"}' "$TMP/body" && break
    sleep 0.1
done
[ "$CODE" = 200 ] || fail "/health before the mock stopped: HTTP $CODE $(cat "$TMP/body")"
mock_stop
for _ in $(seq 150); do
    get /health
    [ "$CODE" = 503 ] && break
    sleep 0.1
done
[ "$CODE" = 503 ] || fail "/health after the mock stopped: HTTP $CODE (expected 503) $(cat "$TMP/body")"
python3 - "$TMP/body" <<'EOF' 2>"$TMP/py.out" || fail "/health UNHEALTHY body: $(tail -n 3 "$TMP/py.out")"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["state"] == "UNHEALTHY", h
e = h["instances"][0]["endpoints"][0]
assert h["instances"][0]["state"] == "UNHEALTHY" and e["state"] == "UNHEALTHY" and e["failures"] >= 1, h
assert e["last_error"], e
EOF
# /metrics still answers while the exchange is down
get /metrics
[ "$CODE" = 200 ] || fail "/metrics while UNHEALTHY: $CODE"

# SIGINT stops it the same way (streams reconnecting right now)
serve_stop INT
[ "$SERVE_RC" = 0 ] && [ "$SERVE_STOP_MS" -lt 1000 ] || fail "SIGINT: exit $SERVE_RC after $SERVE_STOP_MS ms"
grep -q '"signal":"SIGINT"' "$SERVE_OUT" || fail "no stopped line after SIGINT"
mock_finish
