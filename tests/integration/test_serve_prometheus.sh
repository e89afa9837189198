#!/bin/bash
# tests/integration/test_serve_prometheus.sh — `xgw serve` GET /metrics is valid
# Prometheus text exposition (promtool check metrics), and a real Prometheus
# server (Debian's prometheus, started on loopback with a temporary config and
# TSDB, scrape interval 1 s) scrapes it: up == 1, and the health-check request
# counter equals what the configuration implies exactly.
#
# The known counter: health_interval_s = 3600 makes serve send exactly one
# health check (op "ping") per endpoint at start and none for an hour; the
# config has two instances with one endpoint each, so
# sum(xgw_requests_total{op="ping"}) must be exactly 2 and each
# xgw_health_checks_total exactly 1. The stream families (xgw_ws_*,
# xgw_stream_*) are present for bn's ticker stream.
#
# The Prometheus package is installed here when missing (apt-get); if that is
# impossible the test fails saying so.
. "$(dirname "$0")/lib_mock.sh"
. "$(dirname "$0")/lib_serve.sh"

need_pkg promtool prometheus
need_pkg prometheus prometheus

mock_start --seed 7
serve_config "$TMP/serve.ini" -- "bn:binance:health_interval_s = 3600;streams = ticker:BTCUSDT" \
    "bx:bitunix:health_interval_s = 3600"
serve_start "$TMP/serve.ini"

# Wait for both first health checks (their counters are what Prometheus must see).
for _ in $(seq 100); do
    get /health
    python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); sys.exit(0 if all(e["checks"]==1 for i in h["instances"] for e in i["endpoints"]) else 1)' "$TMP/body" 2>/dev/null && break
    sleep 0.1
done

# ---- promtool ------------------------------------------------------------------
get /metrics -D "$TMP/headers"
[ "$CODE" = 200 ] || fail "GET /metrics: HTTP $CODE"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers" || fail "GET /metrics: content type: $(grep -i content-type "$TMP/headers")"
cp "$TMP/body" "$TMP/metrics.txt"
if ! promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1; then
    fail "promtool check metrics: $(head -c 2000 "$TMP/promtool.out")"
fi
grep -q '^xgw_requests_total{exchange="bn",endpoint="https://127.0.0.1:'"$MOCK_PORT"'",op="ping",outcome="ok"} 1$' "$TMP/metrics.txt" ||
    fail "/metrics lacks the bn ping counter = 1: $(grep 'op="ping"' "$TMP/metrics.txt")"
# the stream families (bn streams ticker:BTCUSDT: @bookTicker on /public and @ticker on /market, two
# connections; the second may still be opening)
for _ in $(seq 100); do
    grep -q '^xgw_ws_connections{exchange="bn"} 2$' "$TMP/metrics.txt" && break
    sleep 0.1
    get /metrics
    cp "$TMP/body" "$TMP/metrics.txt"
done
grep -q '^xgw_ws_connections{exchange="bn"} 2$' "$TMP/metrics.txt" || fail "/metrics lacks xgw_ws_connections{exchange=\"bn\"} 2"
grep -q '^xgw_stream_latency_seconds_count{exchange="bn",channel="ticker"} [1-9]' "$TMP/metrics.txt" ||
    fail "/metrics lacks the ticker stream latency histogram"
# the JSON form parses too (the status page reads it)
get '/metrics?format=json'
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert len(m["exchanges"])==2, m' "$TMP/body" 2>"$TMP/py.out" ||
    fail "/metrics?format=json is not the expected JSON: $(tail -n 2 "$TMP/py.out")"

# ---- a real Prometheus scrapes it -------------------------------------------------
PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$TMP/tsdb"
cat >"$TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xgw
    static_configs:
      - targets: ["127.0.0.1:$SERVE_PORT"]
EOF
promtool check config "$TMP/prom.yml" >"$TMP/promcfg.out" 2>&1 || fail "prometheus config: $(cat "$TMP/promcfg.out")"
timeout -k 5 200 prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
PROM_PID=$!
EXTRA_PIDS="$PROM_PID"

# query EXPR: the instant value of EXPR (first series), or "" when none yet
query() {
    curl -sS --max-time 5 --get --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null |
        python3 -c 'import json,sys
try:
    r=json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}

up=
for _ in $(seq 60); do
    up=$(query 'up{job="xgw"}')
    [ "$up" = 1 ] && break
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.5
done
[ "$up" = 1 ] || fail "Prometheus never saw up == 1 (last: \"$up\"); log: $(tail -n 5 "$TMP/prom.log")"

pings=$(query 'sum(xgw_requests_total{job="xgw",op="ping",outcome="ok"})')
[ "$pings" = 2 ] || fail "sum(xgw_requests_total{op=\"ping\"}) = \"$pings\", expected exactly 2 (one check per endpoint)"
checks=$(query 'count(xgw_health_checks_total{job="xgw"} == 1)')
[ "$checks" = 2 ] || fail "xgw_health_checks_total == 1 for \"$checks\" endpoints, expected 2"
msgs=$(query 'xgw_stream_messages_total{job="xgw",exchange="bn",channel="ticker"} > 0')
[ -n "$msgs" ] || fail "Prometheus has no xgw_stream_messages_total > 0 for bn's ticker stream"
inst=$(query 'xgw_exchanges{job="xgw"}')
[ "$inst" = 2 ] || fail "xgw_exchanges = \"$inst\", expected 2"
# the scrape itself was healthy (no sample-limit or parse trouble)
samples=$(query 'scrape_samples_scraped{job="xgw"}')
[ -n "$samples" ] && [ "$samples" -gt 50 ] || fail "scrape_samples_scraped = \"$samples\""

kill_pid "$PROM_PID"
EXTRA_PIDS=
serve_stop
[ "$SERVE_RC" = 0 ] || fail "serve exit $SERVE_RC after SIGTERM"
mock_finish
