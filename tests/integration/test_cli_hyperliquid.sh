#!/bin/bash
# tests/integration/test_cli_hyperliquid.sh — `xgw -x hyperliquid` against the
# mock exchange over loopback TLS, each output compared with the mock's state
# (POST /info, GET /_mock/state): time, markets, ticker, depth, balances,
# positions (none), a limit buy far below the market → orders → order get →
# cancel by cloid; an order signed with a wrong private key → AUTH, exit 1
# (the mock, like the exchange, recovers the signer from the signature and
# answers "User or API Wallet 0x… does not exist."); then `xgw stream` for
# Hyperliquid (ticker, book, trades, orders) and Bitunix (ticker, trades,
# book) on a mock whose market moves, printing the documented JSON lines.
# Every process is bounded by `timeout` and the mock is killed by its PID.
. "$(dirname "$0")/lib_mock.sh"

# The mock's demo account key (tools/mockex/account.c): a public test vector.
export HL_KEY=0x0123456789012345678901234567890123456789012345678901234567890123
HL_ADDR=0x14791697260e4c9a71f18484c9f997b308e59325
SECRETS="${HL_KEY#0x}"
CID=0x0000000000000000000000000000c11d

hl_config() {
    cat >"$1" <<EOT
[gateway]
log_level = error

[exchange.hyperliquid]
plugin = hyperliquid
network = mainnet
private_key = \${HL_KEY}
rest_endpoints = https://127.0.0.1:$MOCK_PORT
ws_endpoints = wss://127.0.0.1:$MOCK_PORT
ca_file = $MOCK_CERT
request_timeout_ms = 5000
EOT
}
info() { # info JSON FILE: POST /info to the mock
    curl -sS --fail --max-time 10 --cacert "$MOCK_CERT" -H 'Content-Type: application/json' -d "$1" -o "$2" \
        "https://127.0.0.1:$MOCK_PORT/info" || fail "POST /info $1"
}

mock_start --tick-ms 3600000
CFG=$TMP/hl.ini
hl_config "$CFG"
hl() { xgw -c "$CFG" -x hyperliquid "$@"; no_secrets "$*"; }

# ---- time
hl time
ok time && py time '
import json, sys, time
o = json.loads(open(sys.argv[1]).read())
assert o["exchange"] == "hyperliquid", o
assert abs(o["server_time_ms"] - int(time.time() * 1000)) < 5000, o
'

# ---- markets from meta: BTC szDecimals 5, ETH 4
hl markets
ok markets && py markets '
import json, sys
rows = {r["symbol"]: r for r in map(json.loads, open(sys.argv[1]).read().splitlines())}
assert set(rows) == {"BTC", "ETH"}, rows
assert rows["BTC"]["step_size"] == "0.00001" and rows["ETH"]["step_size"] == "0.0001", rows
assert all(r["exchange"] == "hyperliquid" and r["quote"] == "USDC" for r in rows.values()), rows
'

# ---- ticker and depth: the mock's l2Book (the market is frozen)
info '{"type":"l2Book","coin":"BTC"}' "$TMP/l2.json"
hl ticker BTC
ok ticker && py ticker '
import json, sys
o = json.loads(open(sys.argv[1]).read())
l2 = json.load(open(sys.argv[3]))
assert (o["exchange"], o["symbol"]) == ("hyperliquid", "BTC"), o
assert o["bid"] == l2["levels"][0][0]["px"] and o["ask"] == l2["levels"][1][0]["px"], (o, l2["levels"][0][0])
' "$TMP/l2.json"
hl depth BTC --limit 5
ok depth && py depth '
import json, sys
o = json.loads(open(sys.argv[1]).read())
l2 = json.load(open(sys.argv[3]))
assert isinstance(o["seq"], int) and o["seq"] > 0, o   # the snapshot time
for side, lv in (("bids", l2["levels"][0]), ("asks", l2["levels"][1])):
    assert o[side] == [[x["px"], x["sz"]] for x in lv[:5]], (side, o[side], lv[:5])
' "$TMP/l2.json"

# ---- balances (clearinghouseState of the derived address), no positions
hl balances
ok balances && py balances '
import json, sys
from decimal import Decimal as D
rows = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(rows) == 1 and rows[0]["asset"] == "USDC" and D(rows[0]["total"]) == 100000, rows
'
hl positions
ok positions && py positions 'import sys; assert open(sys.argv[1]).read() == ""'

# ---- place far below the market → orders, get → cancel by cloid
hl order place BTC buy limit 0.01 40000 --client-id "$CID"
ok "order place" && py "order place" '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert (o["exchange"], o["symbol"], o["client_id"], o["status"], o["side"], o["type"]) == \
    ("hyperliquid", "BTC", sys.argv[3], "new", "buy", "limit"), o
assert o["order_id"].isdigit(), o
open(sys.argv[4], "w").write(o["order_id"])
' "$CID" "$TMP/oid"
OID=$(cat "$TMP/oid" 2>/dev/null)
mock_state "$TMP/state.json"
py "mock holds the order" '
import json, sys
st = json.load(open(sys.argv[3]))
acct = st["exchanges"]["hyperliquid"]["accounts"][0]
assert acct["address"].lower() == sys.argv[6], acct
oo = acct["open_orders"]
assert len(oo) == 1, oo
assert (str(oo[0]["oid"]), oo[0]["cloid"], oo[0]["side"], oo[0]["limitPx"]) == (sys.argv[4], sys.argv[5], "B", "40000.0"), oo
' "$TMP/state.json" "$OID" "$CID" "$HL_ADDR"
ORDER_CHECK='
import json, sys
from decimal import Decimal as D
o = json.loads(open(sys.argv[1]).read())
assert (o["order_id"], o["client_id"], o["status"], o["side"]) == (sys.argv[3], sys.argv[4], sys.argv[5], "buy"), o
assert D(o["price"]) == 40000 and D(o["qty"]) == D("0.01") and D(o["filled_qty"]) == 0, o
'
hl orders
ok orders && py orders "$ORDER_CHECK" "$OID" "$CID" new
hl order get BTC --client-id "$CID"
ok "order get" && py "order get" "$ORDER_CHECK" "$OID" "$CID" new
hl order cancel BTC --client-id "$CID"
ok "order cancel" && py "order cancel" '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert (o["client_id"], o["status"]) == (sys.argv[3], "canceled"), o
' "$CID"
hl orders
ok "orders after cancel" && py "orders after cancel" 'import sys; assert open(sys.argv[1]).read() == ""'

# ---- a wrong key signs: the recovered signer is unknown → AUTH, exit 1
HL_KEY=0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef xgw -c "$CFG" -x hyperliquid \
    order place BTC buy limit 0.01 40000
[ "$rc" -eq 1 ] || fail "wrong key: exit $rc, expected 1"
py "wrong key" '
import json, sys
assert open(sys.argv[1]).read() == "", "stdout not empty"
e = json.loads([l for l in open(sys.argv[2]).read().splitlines() if l.startswith("{\"error\"")][0])["error"]
assert e["kind"] == "AUTH" and e["exchange"] == "hyperliquid", e
assert "does not exist" in e["message"], e
'
mock_state "$TMP/state.json"
py "the wrong-key order never reached the book" '
import json, sys
st = json.load(open(sys.argv[3]))
assert st["exchanges"]["hyperliquid"]["accounts"][0]["open_orders"] == [], st["exchanges"]["hyperliquid"]
' "$TMP/state.json"

# ---- streams on a mock whose market moves every 100 ms
mock_stop
mock_start
hl_config "$CFG"
STREAM_CHECK='
import json, sys
from decimal import Decimal as D
ex, ch, n = sys.argv[3], sys.argv[4], int(sys.argv[5])
syms = sys.argv[6].split(",")
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == n, lines
for l in lines:
    o = json.loads(l)
    assert (o["exchange"], o["channel"]) == (ex, ch) and o["symbol"] in syms, o
    assert isinstance(o["recv_ts"], int) and o["recv_ts"] > 0, o
    if ch == "ticker":
        assert D(o["bid"]) < D(o["ask"]), o
    elif ch == "trades":
        assert D(o["price"]) > 0 and D(o["qty"]) > 0 and o["side"] in ("buy", "sell"), o
    elif ch == "book":
        assert len(o["bids"]) == 3 and len(o["asks"]) == 3, o
        assert D(o["bids"][0][0]) < D(o["asks"][0][0]), o
        assert isinstance(o["seq"], int), o
'
hl stream ticker BTC ETH --count 4 --seconds 20
ok "hl stream ticker" && py "hl stream ticker" "$STREAM_CHECK" hyperliquid ticker 4 BTC,ETH
hl stream book BTC --depth 3 --count 2 --seconds 20
ok "hl stream book" && py "hl stream book" "$STREAM_CHECK" hyperliquid book 2 BTC
hl stream trades ETH --count 2 --seconds 20
ok "hl stream trades" && py "hl stream trades" "$STREAM_CHECK" hyperliquid trades 2 ETH

# orders: the stream runs in the background, an order placed meanwhile,
# once the mock has the stream's subscription (one: orderUpdates). The
# streams above subscribed on this mock too: wait for one more than they made
# (bounded), not for any. No pause for the ack: the mock (one thread) has
# registered the subscription when it counts it, and sends the update on
# that socket after the ack.
hl_subscribes() {
    mock_state "$TMP/state.json"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("counters", {}).get("hyperliquid", {}).get("ws_subscribes", 0))' \
        "$TMP/state.json"
}
subs0=$(hl_subscribes)
timeout -k 5 30 "$XGW_BIN" -c "$CFG" -x hyperliquid stream orders --count 1 --seconds 20 >"$TMP/orders.out" 2>"$TMP/orders.err" &
SPID=$!
subs=$subs0
for _ in $(seq 1 150); do
    subs=$(hl_subscribes)
    [ "$subs" -gt "$subs0" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
done
[ "$subs" -gt "$subs0" ] || fail "the orders stream never subscribed (ws_subscribes $subs0 -> $subs): $(head -c 1500 "$TMP/orders.err")"
hl order place BTC buy limit 0.01 40000 --client-id "$CID"
ok "order place for the stream"
wait "$SPID"
rc=$?
cp "$TMP/orders.out" "$OUT"
cp "$TMP/orders.err" "$ERR"
ok "hl stream orders" && py "hl stream orders" '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert (o["exchange"], o["channel"], o["symbol"], o["client_id"], o["status"]) == \
    ("hyperliquid", "orders", "BTC", sys.argv[3], "new"), o
assert o["order_id"].isdigit() and "filled_qty" in o and "avg_price" in o, o
' "$CID"

# Bitunix on the same mock
export KEY_VAR=test-api-key SECRET_VAR=test-secret
mock_config "$TMP/bx.ini" bitunix mainnet
xgw -c "$TMP/bx.ini" -x bitunix stream ticker BTCUSDT ETHUSDT --count 4 --seconds 20
ok "bx stream ticker" && py "bx stream ticker" "$STREAM_CHECK" bitunix ticker 4 BTCUSDT,ETHUSDT
xgw -c "$TMP/bx.ini" -x bitunix stream book BTCUSDT --depth 3 --count 2 --seconds 20
ok "bx stream book" && py "bx stream book" "$STREAM_CHECK" bitunix book 2 BTCUSDT
xgw -c "$TMP/bx.ini" -x bitunix stream trades ETHUSDT --count 2 --seconds 20
ok "bx stream trades" && py "bx stream trades" "$STREAM_CHECK" bitunix trades 2 ETHUSDT

mock_stop
mock_finish
