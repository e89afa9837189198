#!/bin/bash
# tests/integration/test_cli_binance.sh — every `xgw -x binance` request
# command against the mock exchange over loopback TLS (issue 5), each output
# compared with what the mock holds (GET /_mock/state):
#   time, markets, ticker, depth, balances, positions (empty), a limit buy far
#   below the market → orders → order get → order cancel (by client id), a
#   market buy → the position, a wrong secret / unknown key → AUTH with exit 1,
#   and `stream ticker` on a second mock whose market moves.
# The first mock's market is frozen (--tick-ms 1 h) so prices compare exactly.
# Every process is bounded by `timeout` and the mocks are killed by PID.
. "$(dirname "$0")/lib_mock.sh"

KEY=dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83
SECRET=2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9
export KEY_VAR=$KEY SECRET_VAR=$SECRET
SECRETS="$SECRET"

mock_start --tick-ms 3600000
CFG=$TMP/binance.ini
mock_config "$CFG" binance testnet
state() { mock_state "$TMP/state.json"; }
bn() { xgw -c "$CFG" -x binance "$@"; no_secrets "$*"; }

# ---- time
bn time
ok time && py time '
import json, sys, time
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["exchange"] == "binance", o
assert isinstance(o["server_time_ms"], int) and isinstance(o["local_offset_ms"], int), o
now = int(time.time() * 1000)
assert abs(o["server_time_ms"] - now) < 5000, (o, now)
assert abs(o["local_offset_ms"]) < 1000, o
'

# ---- markets: the mock lists BTCUSDT (tick 0.1, lot 0.001) and ETHUSDT (tick 0.01)
bn markets
ok markets && py markets '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
m = {r["symbol"]: r for r in rows}
assert len(m) == len(rows) == 2, rows
keys = {"exchange", "symbol", "base", "quote", "tick_size", "step_size", "min_qty", "min_notional", "status"}
for r in rows:
    assert keys <= set(r), r
    assert r["exchange"] == "binance" and r["quote"] == "USDT" and r["status"] == "trading", r
b, e = m["BTCUSDT"], m["ETHUSDT"]
assert (b["base"], b["tick_size"], b["step_size"], b["min_qty"], b["min_notional"]) == ("BTC", "0.1", "0.001", "0.001", "5"), b
assert (e["base"], e["tick_size"], e["step_size"], e["min_qty"], e["min_notional"]) == ("ETH", "0.01", "0.001", "0.001", "5"), e
'

# ---- ticker: best bid/ask exactly the mock book's, last = the mock's last price
state
curl -sS --fail --max-time 10 --cacert "$MOCK_CERT" -o "$TMP/price.json" \
    "https://127.0.0.1:$MOCK_PORT/fapi/v2/ticker/price?symbol=BTCUSDT" || fail "GET ticker/price"
bn ticker BTCUSDT
ok ticker && py ticker '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
st = json.load(open(sys.argv[3]))
book = {b["symbol"]: b for b in st["exchanges"]["binance"]["books"]}["BTCUSDT"]
assert {"exchange", "symbol", "last", "bid", "ask", "ts"} <= set(o), o
assert o["exchange"] == "binance" and o["symbol"] == "BTCUSDT", o
assert o["bid"] == book["bid"] and o["ask"] == book["ask"], (o, book)
assert D(o["bid"]) < D(o["ask"]), o
assert D("30000") < D(o["bid"]) < D("130000"), o
price = json.load(open(sys.argv[4]))
assert o["last"] == price["price"], (o, price)
' "$TMP/state.json" "$TMP/price.json"

# ---- depth: sorted levels, the mock's lastUpdateId as seq, top of book = the mock's
bn depth BTCUSDT --limit 5
ok depth && py depth '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
st = json.load(open(sys.argv[3]))
book = {b["symbol"]: b for b in st["exchanges"]["binance"]["books"]}["BTCUSDT"]
assert o["exchange"] == "binance" and o["symbol"] == "BTCUSDT", o
assert o["seq"] == book["lastUpdateId"], (o["seq"], book)
bids, asks = o["bids"], o["asks"]
assert len(bids) == 5 and len(asks) == 5, o
for lv in bids + asks:
    assert len(lv) == 2 and all(isinstance(x, str) for x in lv) and D(lv[1]) > 0, lv
bp = [D(p) for p, _ in bids]
ap = [D(p) for p, _ in asks]
assert all(a > b for a, b in zip(bp, bp[1:])), bp      # bids strictly descending
assert all(a < b for a, b in zip(ap, ap[1:])), ap      # asks strictly ascending
assert bp[0] < ap[0], (bp, ap)
assert bids[0][0] == book["bid"] and asks[0][0] == book["ask"], (bids[0], asks[0], book)
' "$TMP/state.json"

# ---- balances: the demo account's 100000 USDT wallet
bn balances
ok balances && py balances '
import json, sys
from decimal import Decimal as D
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
st = json.load(open(sys.argv[3]))
acct = st["exchanges"]["binance"]["accounts"][0]
assert acct["name"] == "demo", acct["name"]
usdt = [r for r in rows if r["asset"] == "USDT"]
assert len(usdt) == 1, rows
r = usdt[0]
assert r["exchange"] == "binance", r
assert D(r["total"]) == D(acct["wallet"]) == D(100000), (r, acct["wallet"])
assert D(r["available"]) == D(r["total"]), r
' "$TMP/state.json"

# ---- positions: none at start (the mock holds only zero amounts)
bn positions
ok positions && py "positions at start" '
import sys
out = open(sys.argv[1]).read()
assert out == "", out
'

# ---- a limit buy at about half the price rests; seen by orders, get, cancelled
CID="clitest-$$-1"
bn order place BTCUSDT buy limit 0.010 32500.0 --client-id "$CID"
ok "order place limit" && py "order place limit" '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
keys = {"exchange", "symbol", "order_id", "client_id", "status", "side", "type", "price", "qty", "filled_qty", "avg_price"}
assert keys <= set(o), o
assert (o["exchange"], o["symbol"], o["client_id"], o["status"], o["side"], o["type"]) == \
    ("binance", "BTCUSDT", sys.argv[3], "new", "buy", "limit"), o
assert o["price"] == "32500.0" and o["qty"] == "0.010", o
assert o["order_id"] and o["order_id"].isdigit(), o
open(sys.argv[4], "w").write(o["order_id"])
' "$CID" "$TMP/oid"
OID=$(cat "$TMP/oid" 2>/dev/null)

state
py "mock holds the order" '
import json, sys
st = json.load(open(sys.argv[3]))
oo = st["exchanges"]["binance"]["accounts"][0]["open_orders"]
assert len(oo) == 1, oo
o = oo[0]
assert (str(o["orderId"]), o["clientOrderId"], o["status"], o["side"], o["type"], o["price"], o["origQty"]) == \
    (sys.argv[4], sys.argv[5], "NEW", "BUY", "LIMIT", "32500.0", "0.010"), o
' "$TMP/state.json" "$OID" "$CID"

ORDER_CHECK='
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
want = {"exchange": "binance", "symbol": "BTCUSDT", "order_id": sys.argv[3], "client_id": sys.argv[4],
        "status": sys.argv[5], "side": "buy", "type": "limit", "price": "32500.0", "qty": "0.010"}
for k, v in want.items():
    assert o.get(k) == v, (k, o.get(k), v)
from decimal import Decimal as D
assert D(o["filled_qty"]) == 0, o
'
bn orders BTCUSDT
ok orders && py orders "$ORDER_CHECK" "$OID" "$CID" new
bn order get BTCUSDT --client-id "$CID"
ok "order get" && py "order get" "$ORDER_CHECK" "$OID" "$CID" new
bn order get BTCUSDT --id "$OID"
ok "order get --id" && py "order get --id" "$ORDER_CHECK" "$OID" "$CID" new
bn order cancel BTCUSDT --client-id "$CID"
ok "order cancel" && py "order cancel" "$ORDER_CHECK" "$OID" "$CID" canceled
bn order get BTCUSDT --client-id "$CID"
ok "order get after cancel" && py "order get after cancel" "$ORDER_CHECK" "$OID" "$CID" canceled
bn orders BTCUSDT
ok "orders after cancel" && py "orders after cancel" '
import sys
out = open(sys.argv[1]).read()
assert out == "", out
'
state
py "mock has no open order" '
import json, sys
st = json.load(open(sys.argv[3]))
assert st["exchanges"]["binance"]["accounts"][0]["open_orders"] == [], st["exchanges"]["binance"]["accounts"][0]
' "$TMP/state.json"

# ---- a market buy fills at the (frozen) best ask and opens a long position
state
bn order place BTCUSDT buy market 0.010
ok "order place market" && py "order place market" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
st = json.load(open(sys.argv[3]))
book = {b["symbol"]: b for b in st["exchanges"]["binance"]["books"]}["BTCUSDT"]
assert (o["exchange"], o["symbol"], o["status"], o["side"], o["type"], o["qty"]) == \
    ("binance", "BTCUSDT", "filled", "buy", "market", "0.010"), o
assert o["client_id"], o   # generated when none is given
assert D(o["filled_qty"]) == D("0.010"), o
assert D(o["avg_price"]) == D(book["ask"]), (o, book)
' "$TMP/state.json"

bn positions
ok "positions after fill" && { state; py "positions after fill" '
import json, sys
from decimal import Decimal as D
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(rows) == 1, rows
p = rows[0]
st = json.load(open(sys.argv[3]))
mp = [x for x in st["exchanges"]["binance"]["accounts"][0]["positions"] if x["symbol"] == "BTCUSDT"][0]
book = {b["symbol"]: b for b in st["exchanges"]["binance"]["books"]}["BTCUSDT"]
keys = {"exchange", "symbol", "side", "size", "entry_price", "mark_price", "unrealized_pnl", "leverage"}
assert keys <= set(p), p
assert (p["exchange"], p["symbol"], p["side"]) == ("binance", "BTCUSDT", "long"), p
assert D(p["size"]) == D(mp["positionAmt"]) == D("0.010"), (p, mp)
assert D(p["entry_price"]) == D(mp["entryPrice"]) == D(book["ask"]), (p, mp, book)
assert D(p["mark_price"]) == D(mp["markPrice"]), (p, mp)
assert D(p["unrealized_pnl"]) == D(mp["unRealizedProfit"]), (p, mp)
' "$TMP/state.json"; }

# ---- a wrong secret or an unknown key: AUTH, exit 1, nothing on stdout
AUTH_CHECK='
import json, sys
assert open(sys.argv[1]).read() == "", "stdout not empty"
errs = [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("{\"error\"")]
assert len(errs) == 1, open(sys.argv[2]).read()
e = json.loads(errs[0])["error"]
assert e["kind"] == "AUTH", e
assert e["exchange"] == "binance", e
assert e["code"] == int(sys.argv[3]), e
assert isinstance(e["message"], str) and e["message"], e
assert e["endpoint"].startswith("https://127.0.0.1:"), e
'
SECRET_VAR=${SECRET%?}0 xgw -c "$CFG" -x binance balances
[ "$rc" -eq 1 ] || fail "wrong secret: exit $rc, expected 1"
py "wrong secret" "$AUTH_CHECK" -1022
no_secrets "wrong secret"
SECRET_VAR=${SECRET%?}0 xgw -c "$CFG" -x binance order place BTCUSDT buy limit 0.010 32500.0
[ "$rc" -eq 1 ] || fail "wrong secret (place): exit $rc, expected 1"
py "wrong secret (place)" "$AUTH_CHECK" -1022
KEY_VAR=${KEY%?}0 xgw -c "$CFG" -x binance positions
[ "$rc" -eq 1 ] || fail "unknown key: exit $rc, expected 1"
py "unknown key" "$AUTH_CHECK" -2015

state
py "wrong-secret orders never reached the book" '
import json, sys
st = json.load(open(sys.argv[3]))
assert st["exchanges"]["binance"]["accounts"][0]["open_orders"] == [], st
assert st["counters"]["binance"].get("signature_failures", 0) >= 2, st["counters"]
' "$TMP/state.json"

# ---- stream ticker: a second mock whose market moves every 100 ms; both the
# routed WebSocket paths (default) and the legacy /ws paths (ws_routed = false)
mock_stop
mock_start
for routed in true false; do
    mock_config "$TMP/stream-$routed.ini" binance testnet "ws_routed = $routed"
    xgw -c "$TMP/stream-$routed.ini" -x binance stream ticker BTCUSDT --count 3 --seconds 20
    ok "stream ticker (ws_routed=$routed)" && py "stream ticker (ws_routed=$routed)" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, lines
for l in lines:
    o = json.loads(l)
    assert (o["exchange"], o["channel"], o["symbol"]) == ("binance", "ticker", "BTCUSDT"), o
    assert D(o["bid"]) < D(o["ask"]), o
    assert D("30000") < D(o["bid"]) < D("130000"), o
    assert isinstance(o["ts"], int) and o["ts"] > 0, o
'
done

# ---- clock: the mock's clock 10 s ahead and no sample at start. The first
# signed call is refused with -1021, the gateway re-syncs its clock and sends
# it again: success.
mock_stop
mock_start --clock-offset-ms 10000
mock_config "$TMP/clock.ini" binance testnet "clock_sync = false"
xgw -c "$TMP/clock.ini" -x binance balances
ok "balances with the exchange's clock 10 s ahead" && py "balances after clock re-sync" '
import json, sys
o = json.loads(open(sys.argv[1]).read().splitlines()[0])
assert o["asset"] == "USDT", o
'
mock_state "$TMP/state.json"
py "one timestamp refusal, then success" '
import json, sys
st = json.load(open(sys.argv[3]))
c = st["counters"]["binance"]
assert c.get("timestamp_failures", 0) == 1, c
' "$TMP/state.json"

# ---- health: every endpoint healthy -> exit 0; one of two down -> DEGRADED,
# still exit 0; all down -> UNHEALTHY, exit 1.
# (a copy of the mock's certificate: its own goes away with the mock)
cp "$MOCK_CERT" "$TMP/ca.pem" && MOCK_CERT=$TMP/ca.pem
hcfg() { mock_config "$1" binance testnet "health_interval_s = 1" "health_timeout_s = 1" "health_max_failures = 1" "$2"; }
hcfg "$TMP/h1.ini" "rest_endpoints = https://127.0.0.1:$MOCK_PORT"
xgw -c "$TMP/h1.ini" health --wait-s 10
ok "health, all up" && py "health HEALTHY" '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert lines[-1] == {"state": "HEALTHY"}, lines
inst = lines[0]
assert inst["instance"] == "binance" and inst["state"] == "HEALTHY", inst
ep = inst["endpoints"][0]
assert ep["state"] == "HEALTHY" and ep["breaker"] == "closed" and ep["last_latency_ms"] > 0, ep
'
hcfg "$TMP/h2.ini" "rest_endpoints = https://127.0.0.1:$MOCK_PORT, https://127.0.0.1:1"
xgw -c "$TMP/h2.ini" health --wait-s 10
ok "health, one endpoint down" && py "health DEGRADED" '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert lines[-1] == {"state": "DEGRADED"}, lines
eps = lines[0]["endpoints"]
assert [e["state"] for e in eps] == ["HEALTHY", "UNHEALTHY"], eps
assert "127.0.0.1:1" in eps[1]["last_error"], eps
'
mock_stop
xgw -c "$TMP/h1.ini" health --wait-s 10
[ "$rc" -eq 1 ] || fail "health with the exchange down: exit $rc, want 1"
py "health UNHEALTHY" '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert lines[-1] == {"state": "UNHEALTHY"}, lines
'

mock_finish
