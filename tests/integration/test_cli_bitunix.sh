#!/bin/bash
# tests/integration/test_cli_bitunix.sh — every `xgw -x bitunix` request
# command (network = mainnet, endpoints pointed at the mock) against the mock
# exchange over loopback TLS (issue 8), each output compared with what the mock
# holds (GET /_mock/state and its public tickers endpoint): time, markets,
# ticker, depth, balances, positions (empty), a limit buy far below the market
# → orders → order get → order cancel (by client id), a market buy → the
# position and the margin it takes, `stream ticker`, and a wrong secret or
# unknown key → AUTH with exit 1. The market is frozen (--tick-ms 1 h) so
# prices compare exactly. Every process is bounded by `timeout`; the mock is
# killed by its PID.
. "$(dirname "$0")/lib_mock.sh"

KEY=test-api-key
SECRET=test-secret
export KEY_VAR=$KEY SECRET_VAR=$SECRET
SECRETS="$SECRET"

mock_start --tick-ms 3600000
CFG=$TMP/bitunix.ini
mock_config "$CFG" bitunix mainnet
state() { mock_state "$TMP/state.json"; }
bx() { xgw -c "$CFG" -x bitunix "$@"; no_secrets "$*"; }

# ---- time: Bitunix's clock is the Date header (whole seconds)
bx time
ok time && py time '
import json, sys, time
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["exchange"] == "bitunix", o
assert isinstance(o["server_time_ms"], int) and isinstance(o["local_offset_ms"], int), o
now = int(time.time() * 1000)
assert abs(o["server_time_ms"] - now) < 5000, (o, now)
assert abs(o["local_offset_ms"]) < 2000, o
'

# ---- markets: BTCUSDT (tick 0.1, lot 0.001) and ETHUSDT (tick 0.01); Bitunix gives no min notional
bx markets
ok markets && py markets '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
m = {r["symbol"]: r for r in rows}
assert len(m) == len(rows) == 2, rows
keys = {"exchange", "symbol", "base", "quote", "tick_size", "step_size", "min_qty", "min_notional", "status"}
for r in rows:
    assert keys <= set(r), r
    assert r["exchange"] == "bitunix" and r["quote"] == "USDT" and r["status"] == "trading", r
    assert r["min_notional"] is None, r
b, e = m["BTCUSDT"], m["ETHUSDT"]
assert (b["base"], b["tick_size"], b["step_size"], b["min_qty"]) == ("BTC", "0.1", "0.001", "0.001"), b
assert (e["base"], e["tick_size"], e["step_size"], e["min_qty"]) == ("ETH", "0.01", "0.001", "0.001"), e
'

# ---- ticker: Bitunix's REST tickers give the last price, no best bid/ask
if ! curl -sS --fail --max-time 10 --cacert "$MOCK_CERT" -o "$TMP/tickers.json" \
    "https://127.0.0.1:$MOCK_PORT/api/v1/futures/market/tickers?symbols=BTCUSDT"; then
    fail "mock tickers endpoint"
fi
state
bx ticker BTCUSDT
ok ticker && py ticker '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
t = json.load(open(sys.argv[3]))["data"][0]
st = json.load(open(sys.argv[4]))
book = {b["symbol"]: b for b in st["exchanges"]["bitunix"]["books"]}["BTCUSDT"]
assert {"exchange", "symbol", "last", "bid", "ask", "ts"} <= set(o), o
assert o["exchange"] == "bitunix" and o["symbol"] == "BTCUSDT", o
assert t["symbol"] == "BTCUSDT" and D(o["last"]) == D(t["lastPrice"]), (o, t)
# not given by the exchange: null; if a later version fills them, they must be the book'"'"'s
assert (o["bid"], o["ask"]) in ((None, None), (book["bid"], book["ask"])), (o, book)
' "$TMP/tickers.json" "$TMP/state.json"

# ---- depth: sorted levels, top of book = the mock's; Bitunix has no sequence
bx depth BTCUSDT --limit 5
ok depth && py depth '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
st = json.load(open(sys.argv[3]))
book = {b["symbol"]: b for b in st["exchanges"]["bitunix"]["books"]}["BTCUSDT"]
assert o["exchange"] == "bitunix" and o["symbol"] == "BTCUSDT", o
assert isinstance(o["seq"], int), o
bids, asks = o["bids"], o["asks"]
assert len(bids) == 5 and len(asks) == 5, o
for lv in bids + asks:
    assert len(lv) == 2 and all(isinstance(x, str) for x in lv) and D(lv[1]) > 0, lv
bp = [D(p) for p, _ in bids]
ap = [D(p) for p, _ in asks]
assert all(a > b for a, b in zip(bp, bp[1:])), bp      # bids strictly descending
assert all(a < b for a, b in zip(ap, ap[1:])), ap      # asks strictly ascending
assert bp[0] < ap[0], (bp, ap)
assert D(bids[0][0]) == D(book["bid"]) and D(asks[0][0]) == D(book["ask"]), (bids[0], asks[0], book)
' "$TMP/state.json"

# ---- balances: total = available + frozen + margin of the mock account (100000 USDT at start)
BAL_CHECK='
import json, sys
from decimal import Decimal as D
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
st = json.load(open(sys.argv[3]))
a = st["exchanges"]["bitunix"]["accounts"][0]["account"]
assert a["marginCoin"] == "USDT", a
assert len(rows) == 1, rows
r = rows[0]
assert (r["exchange"], r["asset"]) == ("bitunix", "USDT"), r
assert D(r["available"]) == D(a["available"]), (r, a)
assert D(r["total"]) == D(a["available"]) + D(a["frozen"]) + D(a["margin"]), (r, a)
if sys.argv[4] == "start":
    assert D(r["total"]) == D(r["available"]) == D(100000), r
else:
    assert D(0) < D(a["margin"]) and D(r["available"]) < D(r["total"]) < D(100000), (r, a)
'
bx balances
ok balances && { state; py balances "$BAL_CHECK" "$TMP/state.json" start; }

# ---- positions: none at start
bx positions
ok positions && py "positions at start" '
import sys
out = open(sys.argv[1]).read()
assert out == "", out
'

# ---- a limit buy at about half the price (inside the mock'"'"'s ±50 % band) rests
CID="clitest$$a"
bx order place BTCUSDT buy limit 0.010 35000.0 --client-id "$CID"
ok "order place limit" && py "order place limit" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
keys = {"exchange", "symbol", "order_id", "client_id", "status", "side", "type", "price", "qty", "filled_qty", "avg_price"}
assert keys <= set(o), o
assert (o["exchange"], o["symbol"], o["client_id"], o["status"], o["side"], o["type"]) == \
    ("bitunix", "BTCUSDT", sys.argv[3], "new", "buy", "limit"), o
assert D(o["price"]) == D("35000") and D(o["qty"]) == D("0.01"), o
assert o["order_id"], o
open(sys.argv[4], "w").write(o["order_id"])
' "$CID" "$TMP/oid"
OID=$(cat "$TMP/oid" 2>/dev/null)

state
py "mock holds the order" '
import json, sys
st = json.load(open(sys.argv[3]))
oo = st["exchanges"]["bitunix"]["accounts"][0]["open_orders"]
assert len(oo) == 1, oo
o = oo[0]
assert str(o.get("orderId")) == sys.argv[4] and o.get("clientId") == sys.argv[5], o
' "$TMP/state.json" "$OID" "$CID"

ORDER_CHECK='
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
want = {"exchange": "bitunix", "symbol": "BTCUSDT", "order_id": sys.argv[3], "client_id": sys.argv[4],
        "status": sys.argv[5], "side": "buy", "type": "limit"}
for k, v in want.items():
    assert o.get(k) == v, (k, o.get(k), v)
assert D(o["price"]) == D("35000") and D(o["qty"]) == D("0.01") and D(o["filled_qty"]) == 0, o
'
bx orders BTCUSDT
ok orders && py orders "$ORDER_CHECK" "$OID" "$CID" new
bx order get BTCUSDT --client-id "$CID"
ok "order get" && py "order get" "$ORDER_CHECK" "$OID" "$CID" new
bx order get BTCUSDT --id "$OID"
ok "order get --id" && py "order get --id" "$ORDER_CHECK" "$OID" "$CID" new
bx order cancel BTCUSDT --client-id "$CID"
# Bitunix'"'"'s cancel answer carries only the ids: the CLI prints those and the status
ok "order cancel" && py "order cancel" '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert (o["exchange"], o["symbol"], o["order_id"], o["client_id"], o["status"]) == \
    ("bitunix", "BTCUSDT", sys.argv[3], sys.argv[4], "canceled"), o
' "$OID" "$CID"
bx order get BTCUSDT --client-id "$CID"
ok "order get after cancel" && py "order get after cancel" "$ORDER_CHECK" "$OID" "$CID" canceled
bx orders BTCUSDT
ok "orders after cancel" && py "orders after cancel" '
import sys
out = open(sys.argv[1]).read()
assert out == "", out
'
state
py "mock has no open order" '
import json, sys
st = json.load(open(sys.argv[3]))
assert st["exchanges"]["bitunix"]["accounts"][0]["open_orders"] == [], st["exchanges"]["bitunix"]["accounts"][0]
' "$TMP/state.json"

# ---- a market buy fills at the (frozen) best ask and opens a long position
CID2="clitest$$b"
bx order place BTCUSDT buy market 0.010 --client-id "$CID2"
ok "order place market" && py "order place market" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert (o["exchange"], o["symbol"], o["client_id"], o["side"], o["type"]) == \
    ("bitunix", "BTCUSDT", sys.argv[3], "buy", "market"), o
assert o["status"] in ("new", "filled"), o   # Bitunix answers a placement with ids only
assert D(o["qty"]) == D("0.01") and o["order_id"], o
' "$CID2"
state
bx order get BTCUSDT --client-id "$CID2"
ok "order get market" && py "order get market" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
st = json.load(open(sys.argv[4]))
book = {b["symbol"]: b for b in st["exchanges"]["bitunix"]["books"]}["BTCUSDT"]
assert (o["client_id"], o["status"], o["side"], o["type"]) == (sys.argv[3], "filled", "buy", "market"), o
assert D(o["filled_qty"]) == D(o["qty"]) == D("0.01"), o
assert D(o["avg_price"]) == D(book["ask"]), (o, book)
' "$CID2" "$TMP/state.json"

bx positions
ok "positions after fill" && { state; py "positions after fill" '
import json, sys
from decimal import Decimal as D
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(rows) == 1, rows
p = rows[0]
st = json.load(open(sys.argv[3]))
mps = st["exchanges"]["bitunix"]["accounts"][0]["positions"]
assert len(mps) == 1, mps
mp = mps[0]
book = {b["symbol"]: b for b in st["exchanges"]["bitunix"]["books"]}["BTCUSDT"]
keys = {"exchange", "symbol", "side", "size", "entry_price", "mark_price", "unrealized_pnl", "leverage"}
assert keys <= set(p), p
assert (p["exchange"], p["symbol"], p["side"], mp["side"]) == ("bitunix", "BTCUSDT", "long", "LONG"), (p, mp)
assert D(p["size"]) == D(mp["qty"]) == D("0.010"), (p, mp)
assert D(p["entry_price"]) == D(mp["avgOpenPrice"]) == D(book["ask"]), (p, mp, book)
assert D(p["unrealized_pnl"]) == D(mp["unrealizedPNL"]), (p, mp)
assert D(p["leverage"]) == D(mp["leverage"]), (p, mp)
' "$TMP/state.json"; }

bx balances
ok "balances after fill" && { state; py "balances after fill" "$BAL_CHECK" "$TMP/state.json" after; }

# ---- stream ticker: pushed each second, best bid/ask of the mock book
state
xgw -c "$CFG" -x bitunix stream ticker BTCUSDT --count 2 --seconds 20
ok "stream ticker" && py "stream ticker" '
import json, sys
from decimal import Decimal as D
lines = open(sys.argv[1]).read().splitlines()
st = json.load(open(sys.argv[3]))
book = {b["symbol"]: b for b in st["exchanges"]["bitunix"]["books"]}["BTCUSDT"]
assert len(lines) == 2, lines
for l in lines:
    o = json.loads(l)
    assert (o["exchange"], o["channel"], o["symbol"]) == ("bitunix", "ticker", "BTCUSDT"), o
    assert D(o["bid"]) < D(o["ask"]), o
    assert D(o["bid"]) == D(book["bid"]) and D(o["ask"]) == D(book["ask"]), (o, book)
' "$TMP/state.json"

# ---- a wrong secret (10007) or an unknown key (10003): AUTH, exit 1, nothing on stdout
AUTH_CHECK='
import json, sys
assert open(sys.argv[1]).read() == "", "stdout not empty"
errs = [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("{\"error\"")]
assert len(errs) == 1, open(sys.argv[2]).read()
e = json.loads(errs[0])["error"]
assert e["kind"] == "AUTH", e
assert e["exchange"] == "bitunix", e
assert e["code"] == int(sys.argv[3]), e
assert isinstance(e["message"], str) and e["message"], e
assert e["endpoint"].startswith("https://127.0.0.1:"), e
'
SECRET_VAR=wrong-$SECRET xgw -c "$CFG" -x bitunix balances
[ "$rc" -eq 1 ] || fail "wrong secret: exit $rc, expected 1"
py "wrong secret" "$AUTH_CHECK" 10007
no_secrets "wrong secret"
SECRET_VAR=wrong-$SECRET xgw -c "$CFG" -x bitunix order place BTCUSDT buy limit 0.010 35000.0
[ "$rc" -eq 1 ] || fail "wrong secret (place): exit $rc, expected 1"
py "wrong secret (place)" "$AUTH_CHECK" 10007
KEY_VAR=unknown-$KEY xgw -c "$CFG" -x bitunix positions
[ "$rc" -eq 1 ] || fail "unknown key: exit $rc, expected 1"
py "unknown key" "$AUTH_CHECK" 10003

state
py "wrong-secret order never reached the book" '
import json, sys
st = json.load(open(sys.argv[3]))
assert st["exchanges"]["bitunix"]["accounts"][0]["open_orders"] == [], st["exchanges"]["bitunix"]
' "$TMP/state.json"

mock_finish
