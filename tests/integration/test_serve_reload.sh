#!/bin/bash
# tests/integration/test_serve_reload.sh — SIGHUP makes `xgw serve` reload its
# configuration file in place (xgw__gateway_reload).
#   good files, one after the other:
#     - bn unchanged, bx added: bn's stream is kept (same subscription id and
#       start time, its message count keeps growing from where it was, no new
#       WebSocket connection at the mock, xgw_ws_connects_total of bn
#       unchanged), bx appears in /health and subscribes its stream; the port
#       is kept (the file says port 0) and a "reloaded" line printed;
#     - bn's streams grow by a book: the ticker stream is kept, the book added;
#     - bn changed (another key): replaced, its streams re-created; bx kept;
#     - bn removed: gone from /health and /status.json; bx's stream kept;
#   bad files: a syntax/key error, an unknown plugin, a bad streams value:
#              each refused with the error logged (stderr) and a
#              "reload_failed" line, the running configuration untouched
#              (same instances, same stream, same port);
#   finally SIGTERM exits 0 (under ASan: LeakSanitizer clean).
. "$(dirname "$0")/lib_mock.sh"
. "$(dirname "$0")/lib_serve.sh"

mock_start --seed 3
cfg=$TMP/serve.ini
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT"
serve_start "$cfg"
port0=$SERVE_PORT

instances() { # INST = the instance names of /health, space separated (and CODE its status)
    get /health
    INST=$(python3 -c 'import json,sys; print(" ".join(i["instance"] for i in json.load(open(sys.argv[1]))["instances"]))' "$TMP/body" 2>/dev/null)
}
subs() { # "instance:channel:symbols" of /status.json's subscriptions, and whether each is live with messages
    get /status.json
    python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
print(" ".join("%s:%s:%s:%s" % (x["instance"], x["channel"], "+".join(x["symbols"]), "live" if x["state"] == "live" and x["messages"] > 0 else x["state"]) for x in s["subscriptions"]))' "$TMP/body" 2>/dev/null
}
wait_subs() { # wait_subs EXPECTED: up to 10 s
    local got=
    for _ in $(seq 100); do
        got=$(subs)
        [ "$got" = "$1" ] && return 0
        sleep 0.1
    done
    fail "subscriptions: \"$got\", expected \"$1\""
}
sub_of() { # sub_of INSTANCE CHANNEL: "id since_ms messages reconnects" of that subscription in /status.json
    get /status.json
    python3 -c 'import json,sys
for x in json.load(open(sys.argv[1]))["subscriptions"]:
    if x["instance"] == sys.argv[2] and x["channel"] == sys.argv[3]:
        print(x["id"], x["since_ms"], x["messages"], x["reconnects"])' "$TMP/body" "$1" "$2" 2>/dev/null
}
ws_connects() { # ws_connects INSTANCE: xgw_ws_connects_total of the instance in /metrics
    get /metrics
    sed -n 's/^xgw_ws_connects_total{exchange="'"$1"'"} //p' "$TMP/body"
}
mock_ws_conns() { # mock_ws_conns EXCHANGE: WebSocket connections the mock accepted for that exchange
    mock_state "$TMP/state.json"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"][sys.argv[2]].get("ws_connections", 0))' "$TMP/state.json" "$1"
}
check_kept_sub() { # check_kept_sub WHAT INSTANCE CHANNEL "BEFORE": the same subscription, messages still growing
    local id0 since0 msg0 rec0 id since msg rec
    read -r id0 since0 msg0 rec0 <<<"$4"
    read -r id since msg rec <<<"$(sub_of "$2" "$3")"
    [ "$id" = "$id0" ] && [ "$since" = "$since0" ] ||
        fail "$1: $2's $3 subscription was re-created (id/since $id0/$since0 -> $id/$since)"
    [ "$rec" = "$rec0" ] || fail "$1: $2's $3 subscription reconnected ($rec0 -> $rec)"
    [ -n "$msg" ] && [ "$msg" -ge "$msg0" ] || fail "$1: $2's $3 message count went from $msg0 to $msg"
    # and it still delivers: the count grows past the one seen after the reload
    local m1=$msg
    for _ in $(seq 100); do
        read -r id since msg rec <<<"$(sub_of "$2" "$3")"
        [ -n "$msg" ] && [ "$msg" -gt "$m1" ] && return 0
        sleep 0.1
    done
    fail "$1: $2's $3 subscription stopped delivering after the reload ($m1 messages)"
}

instances
[ "$INST" = "bn" ] || fail "before reload: instances $INST"
wait_subs "bn:ticker:BTCUSDT:live"

hup_and_wait() { # hup_and_wait EVENT: SIGHUP, then wait for the n-th line with EVENT
    local before
    before=$(grep -c "\"event\":\"$1\"" "$SERVE_OUT")
    kill -HUP "$SERVE_PID"
    for _ in $(seq 200); do
        [ "$(grep -c "\"event\":\"$1\"" "$SERVE_OUT")" -gt "$before" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "no new \"$1\" line after SIGHUP; stdout: $(cat "$SERVE_OUT") stderr: $(tail -n 5 "$SERVE_ERR")"
    return 1
}
last_reloaded() { # last_reloaded MEMBER: that member of the last "reloaded" line
    grep '"event":"reloaded"' "$SERVE_OUT" | tail -n 1 |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"
}
expect_counts() { # expect_counts WHAT KEPT ADDED REMOVED REPLACED
    local got
    got="$(last_reloaded kept) $(last_reloaded added) $(last_reloaded removed) $(last_reloaded replaced)"
    [ "$got" = "$2 $3 $4 $5" ] || fail "$1: kept/added/removed/replaced = $got, expected $2 $3 $4 $5"
}

# ---- good file: bn unchanged, bx added --------------------------------------------------------
bn_before=$(sub_of bn ticker)
bn_connects=$(ws_connects bn)
bn_mock=$(mock_ws_conns binance)
[ -n "$bn_connects" ] && [ "$bn_connects" -ge 1 ] || fail "no xgw_ws_connects_total for bn: \"$bn_connects\""
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT" "bx:bitunix:streams = ticker:BTCUSDT"
hup_and_wait reloaded
expect_counts "bx added" 1 1 0 0
grep '"event":"reloaded"' "$SERVE_OUT" | tail -n 1 | grep -q "\"listen\":\"127.0.0.1:$port0\"" ||
    fail "the port changed on reload: $(tail -n 1 "$SERVE_OUT")"
instances
[ "$INST" = "bn bx" ] || fail "after the good reload: instances \"$INST\", expected \"bn bx\""
[ "$CODE" = 200 ] || fail "/health after reload: HTTP $CODE"
wait_subs "bn:ticker:BTCUSDT:live bx:ticker:BTCUSDT:live"
check_kept_sub "bx added" bn ticker "$bn_before"
[ "$(ws_connects bn)" = "$bn_connects" ] || fail "bx added: bn's xgw_ws_connects_total went from $bn_connects to $(ws_connects bn)"
[ "$(mock_ws_conns binance)" = "$bn_mock" ] || fail "bx added: the mock saw new binance WebSocket connections ($bn_mock -> $(mock_ws_conns binance))"
[ "$(mock_ws_conns bitunix)" -ge 1 ] || fail "bx added: bx opened no WebSocket connection"
grep -q 'configuration reloaded' "$SERVE_ERR" || fail "the reload was not logged"

# ---- good file: bn's streams grow by a book (bn itself unchanged) ----------------------------------
bn_before=$(sub_of bn ticker)
bx_before=$(sub_of bx ticker)
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT, book:BTCUSDT:5" "bx:bitunix:streams = ticker:BTCUSDT"
hup_and_wait reloaded
expect_counts "bn's streams changed" 2 0 0 0
wait_subs "bn:ticker:BTCUSDT:live bn:book:BTCUSDT:live bx:ticker:BTCUSDT:live"
check_kept_sub "bn's streams changed" bn ticker "$bn_before"
check_kept_sub "bn's streams changed" bx ticker "$bx_before"

# ---- good file: bn changed (a key other than streams): replaced; bx kept ---------------------------
bn_before=$(sub_of bn ticker)
bx_before=$(sub_of bx ticker)
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT, book:BTCUSDT:5;pool_max = 3" "bx:bitunix:streams = ticker:BTCUSDT"
hup_and_wait reloaded
expect_counts "bn changed" 1 0 0 1
wait_subs "bn:ticker:BTCUSDT:live bn:book:BTCUSDT:live bx:ticker:BTCUSDT:live"
read -r id0 since0 _ <<<"$bn_before"
read -r id since _ <<<"$(sub_of bn ticker)"
[ "$id" != "$id0" ] || fail "bn changed: its ticker subscription was not re-created (id $id)"
check_kept_sub "bn changed" bx ticker "$bx_before"

# ---- good file: bn removed --------------------------------------------------------------------
bx_before=$(sub_of bx ticker)
serve_config "$cfg" -- "bx:bitunix:streams = ticker:BTCUSDT"
hup_and_wait reloaded
expect_counts "bn removed" 1 0 1 0
instances
[ "$INST" = "bx" ] || fail "after bn was removed: instances \"$INST\", expected \"bx\""
wait_subs "bx:ticker:BTCUSDT:live"
check_kept_sub "bn removed" bx ticker "$bx_before"
get /metrics
grep -q 'exchange="bn"' "$TMP/body" && fail "bn removed: /metrics still has bn: $(grep -m 3 'exchange="bn"' "$TMP/body")"

# ---- bad files: each refused, the running configuration kept -------------------------------------
check_kept() { # check_kept WHAT PATTERN: after a refused reload
    grep '"event":"reload_failed"' "$SERVE_OUT" >/dev/null || fail "$1: no reload_failed line"
    grep -q 'new configuration refused, the running one is kept' "$SERVE_ERR" || fail "$1: refusal not logged"
    grep -q -- "$2" "$SERVE_ERR" || fail "$1: the logged error does not say \"$2\": $(tail -n 3 "$SERVE_ERR")"
    kill -0 "$SERVE_PID" 2>/dev/null || fail "$1: serve died"
    instances
    [ "$INST" = "bx" ] || fail "$1: instances now \"$INST\""
    [ "$CODE" = 200 ] || fail "$1: /health HTTP $CODE"
    wait_subs "bx:ticker:BTCUSDT:live"
    check_kept_sub "$1" bx ticker "$bx_before"
    get /metrics
    [ "$CODE" = 200 ] || fail "$1: /metrics HTTP $CODE"
}

bx_before=$(sub_of bx ticker)
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT" "bx:bitunix:pool_mx = 3"
hup_and_wait reload_failed
check_kept "unknown key" 'pool_mx'

serve_config "$cfg" -- "bx:bitunix:streams = ticker:BTCUSDT" "zz:nosuchplugin"
hup_and_wait reload_failed
check_kept "unknown plugin" 'nosuchplugin'

serve_config "$cfg" -- "bx:bitunix:streams = ticker:BTCUSDT, book:BTCUSDT:0"
hup_and_wait reload_failed
check_kept "bad streams" 'book depth'

printf '[gateway\nmetrics_listen = 127.0.0.1:0\n' >"$cfg"
hup_and_wait reload_failed
check_kept "syntax error" 'line 1'

[ "$(grep -c '"event":"reload_failed"' "$SERVE_OUT")" = 4 ] || fail "expected 4 reload_failed lines: $(cat "$SERVE_OUT")"

# ---- and a good file again after the bad ones -------------------------------------------------
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT" "bx:bitunix:streams = ticker:BTCUSDT"
hup_and_wait reloaded
expect_counts "bn added again" 1 1 0 0
instances
[ "$INST" = "bn bx" ] || fail "after the last reload: instances \"$INST\", expected \"bn bx\""
wait_subs "bn:ticker:BTCUSDT:live bx:ticker:BTCUSDT:live"
[ "$SERVE_PORT" = "$port0" ] || fail "port changed"

serve_stop
[ "$SERVE_RC" = 0 ] || fail "SIGTERM after reloads: exit $SERVE_RC; stderr: $(tail -n 20 "$SERVE_ERR")"
[ "$SERVE_STOP_MS" -lt 1000 ] || fail "SIGTERM after reloads took $SERVE_STOP_MS ms"
mock_finish
