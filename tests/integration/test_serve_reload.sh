#!/bin/bash
# tests/integration/test_serve_reload.sh — SIGHUP makes `xgw serve` reload its
# configuration file.
#   good file: an instance added (it appears in /health and /status.json), an
#              instance's streams changed, the port kept (the file says port 0),
#              a "reloaded" line printed;
#   bad files: a syntax/key error, an unknown plugin, a bad streams value:
#              each refused with the error logged (stderr) and a
#              "reload_failed" line, the old configuration still served
#              (same instances, streams still live, same port);
#   finally SIGTERM exits 0.
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

# ---- good file: bx added, bn's streams changed -------------------------------------------
serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT, book:BTCUSDT:5" "bx:bitunix"
hup_and_wait reloaded
grep '"event":"reloaded"' "$SERVE_OUT" | tail -n 1 | grep -q "\"listen\":\"127.0.0.1:$port0\"" ||
    fail "the port changed on reload: $(tail -n 1 "$SERVE_OUT")"
instances
[ "$INST" = "bn bx" ] || fail "after the good reload: instances \"$INST\", expected \"bn bx\""
[ "$CODE" = 200 ] || fail "/health after reload: HTTP $CODE"
wait_subs "bn:ticker:BTCUSDT:live bn:book:BTCUSDT:live"
grep -q 'configuration reloaded' "$SERVE_ERR" || fail "the reload was not logged"

# ---- bad files: each refused, the running configuration kept -------------------------------------
check_kept() { # check_kept WHAT PATTERN: after a refused reload
    grep '"event":"reload_failed"' "$SERVE_OUT" >/dev/null || fail "$1: no reload_failed line"
    grep -q 'new configuration refused, the running one is kept' "$SERVE_ERR" || fail "$1: refusal not logged"
    grep -q -- "$2" "$SERVE_ERR" || fail "$1: the logged error does not say \"$2\": $(tail -n 3 "$SERVE_ERR")"
    kill -0 "$SERVE_PID" 2>/dev/null || fail "$1: serve died"
    instances
    [ "$INST" = "bn bx" ] || fail "$1: instances now \"$INST\""
    [ "$CODE" = 200 ] || fail "$1: /health HTTP $CODE"
    wait_subs "bn:ticker:BTCUSDT:live bn:book:BTCUSDT:live"
    get /metrics
    [ "$CODE" = 200 ] || fail "$1: /metrics HTTP $CODE"
}

serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT" "bx:bitunix:pool_mx = 3"
hup_and_wait reload_failed
check_kept "unknown key" 'pool_mx'

serve_config "$cfg" -- "bn:binance" "zz:nosuchplugin"
hup_and_wait reload_failed
check_kept "unknown plugin" 'nosuchplugin'

serve_config "$cfg" -- "bn:binance:streams = ticker:BTCUSDT, book:BTCUSDT:0"
hup_and_wait reload_failed
check_kept "bad streams" 'book depth'

printf '[gateway\nmetrics_listen = 127.0.0.1:0\n' >"$cfg"
hup_and_wait reload_failed
check_kept "syntax error" 'line 1'

[ "$(grep -c '"event":"reload_failed"' "$SERVE_OUT")" = 4 ] || fail "expected 4 reload_failed lines: $(cat "$SERVE_OUT")"

# ---- and a good file again after the bad ones -------------------------------------------------
serve_config "$cfg" -- "bx:bitunix"
hup_and_wait reloaded
instances
[ "$INST" = "bx" ] || fail "after the last reload: instances \"$INST\", expected \"bx\""
[ "$SERVE_PORT" = "$port0" ] || fail "port changed"

serve_stop
[ "$SERVE_RC" = 0 ] || fail "SIGTERM after reloads: exit $SERVE_RC"
[ "$SERVE_STOP_MS" -lt 1000 ] || fail "SIGTERM after reloads took $SERVE_STOP_MS ms"
mock_finish
