#!/usr/bin/env bash
# The README's demo: start the mock exchange on a free loopback port, run the gateway against
# config/demo.ini, and stop the mock. Usage: tools/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
xgw="$build/tools/xgw/xgw"
mockex="$build/tools/mockex/xgw-mockex"
export XGW_PLUGIN_DIR="$build/plugins"
. "$root/config/demo.env"

tmp=$(mktemp -d)
mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
    kill -TERM "$mock_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$mock_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$mockex" --port 0 --seed 42 >"$tmp/mock.out" 2>"$tmp/mock.err" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$tmp/mock.out" ] && break; sleep 0.05; done
line=$(head -n1 "$tmp/mock.out")
port=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ports"][0])' "$line")
export XGW_MOCK_CA=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cert"])' "$line")
export XGW_MOCK_URL="https://127.0.0.1:$port" XGW_MOCK_WSS="wss://127.0.0.1:$port"
echo "# mock exchange on 127.0.0.1:$port (pid $mock_pid)"

cfg="$root/config/demo.ini"
run() { echo "\$ xgw $*"; timeout 30 "$xgw" -c "$cfg" "$@"; }

run check
for pair in binance:BTCUSDT bitunix:BTCUSDT hyperliquid:BTC; do
  ex=${pair%%:*} sym=${pair#*:}
  echo "## $ex"
  run -x "$ex" time
  run -x "$ex" ticker "$sym"
  run -x "$ex" depth "$sym" --limit 3
  run -x "$ex" balances
  # A limit buy far below the market rests; then it is cancelled by its client id.
  bid=$(timeout 30 "$xgw" -c "$cfg" -x "$ex" depth "$sym" --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["bids"][0][0])')
  px=$(python3 -c 'import decimal,sys; print((decimal.Decimal(sys.argv[1])*decimal.Decimal("0.8")).quantize(decimal.Decimal("1")))' "$bid")
  cid="demo-$ex-$$"
  if [ "$ex" = hyperliquid ]; then cid=""; fi  # Hyperliquid client ids are 16-byte hex: let xgw make one
  placed=$(run -x "$ex" order place "$sym" buy limit 0.01 "$px" ${cid:+--client-id "$cid"})
  echo "$placed"
  cid=$(echo "$placed" | tail -n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  run -x "$ex" orders "$sym"
  run -x "$ex" order cancel "$sym" --client-id "$cid"
done
echo "## streams (binance, 3 s)"
run -x binance stream ticker BTCUSDT --seconds 3 --count 5
run -x binance stream book BTCUSDT --depth 3 --count 2
echo "## xgw serve: health and a metrics summary after 4 s of health checks and streams"
timeout 30 "$xgw" -c "$cfg" serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/serve.out" ] && break; sleep 0.05; done
url=$(head -n1 "$tmp/serve.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"].rstrip("/"))')
sleep 4
curl -sS --max-time 5 "$url/health" >"$tmp/health.json" || true
curl -sS --max-time 5 "$url/metrics?format=json" >"$tmp/metrics.json" || true
kill -TERM "$serve_pid" 2>/dev/null || true
wait "$serve_pid" || true
python3 - "$tmp/health.json" "$tmp/metrics.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
print(f"health: {h['state']}")
for inst in h["instances"]:
    for ep in inst["endpoints"]:
        lat = ep["last_latency_ms"]
        print(f"  {inst['instance']:<12} {inst['state']:<9} {ep['url']:<28} breaker {ep['breaker']:<6} "
              f"check {'-' if lat is None else f'{lat:.2f} ms'}")
print("metrics:")
for ex in m["exchanges"]:
    reqs = 0
    for ep in ex["endpoints"]:
        for op in ep.get("ops", {}).values():
            reqs += sum(op["requests"].values())
    used = ", ".join(f"{b['name']} {b['used']}/{b['capacity']}" for b in ex["rate_limit"]["buckets"])
    print(f"  {ex['exchange']:<12} requests {reqs:<4} retries {ex['retries']}  rate limit: {used or 'none declared'}")
for st in m.get("streams", []):
    chans = ", ".join(f"{k} {v['messages']} msgs (latency mean {v['latency_ms']['mean']:.1f} ms)"
                      for k, v in st["channels"].items())
    print(f"  {st['exchange']:<12} ws connections {st['connections']}, reconnects {st['reconnects']}: {chans}")
PY
echo "# demo done"
