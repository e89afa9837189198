# tests/integration/lib_serve.sh — helpers for the `xgw serve` tests (sourced
# after lib_mock.sh; not a test itself).
#
# serve_config FILE [EXTRA_GATEWAY_LINE...] -- [INSTANCE_SPEC...]
#     write a config for the running mock: [gateway] with metrics_listen = 127.0.0.1:0
#     plus the extra lines, then one section per INSTANCE_SPEC "name:plugin[:line;line...]"
#     (binance on testnet, bitunix on mainnet, with the mock's demo credentials).
# serve_start FILE       start `xgw -c FILE serve` as a child of this shell; waits for its
#                        "serving" line; sets SERVE_PID, SERVE_PORT, SERVE_URL
# serve_stop [SIG]       SIGTERM (or SIG), wait (bounded); sets SERVE_RC and SERVE_STOP_MS (the
#                        time to serve's "stopped" line, printed once everything is closed)
# get PATH               curl http://127.0.0.1:$SERVE_PORT$PATH into $TMP/body; sets CODE
# need_pkg BIN PACKAGE   apt-get install PACKAGE when BIN is missing; fail (never skip) if impossible
# wait_line FILE EVENT N wait up to N*0.1 s for a JSON line {"event":EVENT} in FILE
#
# Every child is killed by its PID in the EXIT trap (serve, then the mock,
# then whatever the test registered in EXTRA_PIDS).
SERVE_PID=
EXTRA_PIDS=
SERVE_OUT=$TMP/serve.out
SERVE_ERR=$TMP/serve.err

kill_pid() { # kill_pid PID: TERM, up to 2 s, then KILL; reaps our children
    local p=$1
    [ -n "$p" ] || return 0
    if kill -0 "$p" 2>/dev/null; then
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    return 0
}

serve_cleanup() {
    kill_pid "$SERVE_PID"
    SERVE_PID=
    for p in $EXTRA_PIDS; do kill_pid "$p"; done
    mock_cleanup
}
trap serve_cleanup EXIT

need_pkg() { # need_pkg BINARY PACKAGE: install the Debian package when BINARY is missing, or fail saying why
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "# $1 missing: installing Debian package $2" >&2
    local sudo=
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    DEBIAN_FRONTEND=noninteractive timeout 280 $sudo apt-get install -y --no-install-recommends "$2" >"$TMP/apt.log" 2>&1
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "FAIL: $1 is required and Debian package $2 could not be installed: $(tail -n 3 "$TMP/apt.log")" >&2
    exit 1
}

BN_KEY=dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83
BN_SECRET=2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9

serve_config() {
    local file=$1
    shift
    {
        echo "[gateway]"
        echo "log_level = info"
        echo "metrics_listen = 127.0.0.1:0"
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do echo "$1"; shift; done
        [ $# -gt 0 ] && shift
        local spec name plugin extra
        for spec in "$@"; do
            name=${spec%%:*}
            plugin=${spec#*:}
            extra=
            case "$plugin" in *:*) extra=${plugin#*:}; plugin=${plugin%%:*} ;; esac
            echo
            echo "[exchange.$name]"
            echo "plugin = $plugin"
            case "$plugin" in
            binance) echo "network = testnet"; echo "api_key = $BN_KEY"; echo "api_secret = $BN_SECRET" ;;
            bitunix) echo "network = mainnet"; echo "api_key = test-api-key"; echo "api_secret = test-secret" ;;
            hyperliquid) echo "network = mainnet"; echo "private_key = 0x0123456789012345678901234567890123456789012345678901234567890123" ;;
            esac
            case "$extra" in *rest_endpoints*) ;; *) echo "rest_endpoints = https://127.0.0.1:$MOCK_PORT" ;; esac
            echo "ws_endpoints = wss://127.0.0.1:$MOCK_PORT"
            echo "ca_file = $MOCK_CERT"
            echo "request_timeout_ms = 3000"
            if [ -n "$extra" ]; then echo "$extra" | tr ';' '\n'; fi
        done
    } >"$file"
    chmod 600 "$file" # it holds secrets: xgw refuses them in a file others may read
}

wait_line() { # wait_line FILE EVENT TENTHS
    local i
    for i in $(seq "$3"); do
        grep -q "\"event\":\"$2\"" "$1" 2>/dev/null && return 0
        [ -n "$SERVE_PID" ] && ! kill -0 "$SERVE_PID" 2>/dev/null && return 1
        sleep 0.1
    done
    return 1
}

serve_start() {
    : >"$SERVE_OUT"
    : >"$SERVE_ERR"
    # `timeout` is a backstop only; the test stops serve itself. No wrapper
    # process in between, so SERVE_PID is xgw itself (signals reach it).
    "$XGW_BIN" -c "$1" serve >"$SERVE_OUT" 2>"$SERVE_ERR" &
    SERVE_PID=$!
    if ! wait_line "$SERVE_OUT" serving 150; then
        echo "FAIL: xgw serve did not start: $(head -c 2000 "$SERVE_ERR")" >&2
        exit 1
    fi
    SERVE_PORT=$(grep '"event":"serving"' "$SERVE_OUT" | head -n1 |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["listen"].rsplit(":",1)[1])')
    SERVE_URL="http://127.0.0.1:$SERVE_PORT"
}

serve_stop() { # serve_stop [SIGNAL]  (default TERM)
    local t0 t1 tl=
    t0=$(date +%s%N)
    kill -"${1:-TERM}" "$SERVE_PID"
    # wait returns when xgw exited (bounded: the watchdog below kills it after 10 s)
    (sleep 10; kill -KILL "$SERVE_PID" 2>/dev/null) &
    local dog=$!
    # Timed to the "stopped" line (streams, calls and the gateway closed), not to the exit: what
    # follows it is the sanitizers' work in an ASan build (LeakSanitizer scans the heap at exit,
    # 100-250 ms on a busy 2-core machine against 20-50 ms for the stop itself), bounded by the
    # watchdog and checked through the exit status.
    for _ in $(seq 1100); do
        if grep -q '"event":"stopped"' "$SERVE_OUT" 2>/dev/null; then
            tl=$(date +%s%N)
            break
        fi
        grep -q '^State:.*zombie' "/proc/$SERVE_PID/status" 2>/dev/null && break # exited without it
        sleep 0.01
    done
    wait "$SERVE_PID"
    SERVE_RC=$?
    t1=$(date +%s%N)
    kill "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
    SERVE_STOP_MS=$(((${tl:-$t1} - t0) / 1000000))
    SERVE_PID=
}

get() { # get PATH [CURL_ARGS...]
    local path=$1
    shift
    CODE=$(curl -sS --max-time 10 -o "$TMP/body" -w '%{http_code}' "$@" "$SERVE_URL$path" 2>"$TMP/curl.err")
}
