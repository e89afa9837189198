# tests/integration/lib_mock.sh — shared helpers for the CLI tests against the
# mock exchange (sourced, not a test itself: ctest globs test_*.sh only).
#
# mock_start [ARGS...]   start xgw-mockex on an ephemeral port in the
#                        background; sets MOCK_PORT, MOCK_CERT, MOCK_PID
# mock_stop              SIGTERM (then SIGKILL) the mock by its PID
# mock_state FILE        the mock's GET /_mock/state (its accounts, orders, books)
# mock_config FILE PLUGIN NETWORK [EXTRA_LINE...]
#                        write an INI with one instance named after PLUGIN,
#                        pointed at the mock (unless an EXTRA_LINE sets
#                        rest_endpoints), secrets from ${KEY_VAR}/${SECRET_VAR}
# xgw ARGS...            run the CLI (bounded), sets rc; stdout/stderr in $OUT/$ERR
# fail MSG               count a failure; mock_finish prints the verdict
#
# Every process is bounded by `timeout`; the EXIT trap kills the mock by its PID
# and removes the temporary folder, whatever happens.
set -u
: "${XGW_BIN:?run through ctest}" "${XGW_MOCKEX:?}" "${XGW_PLUGIN_DIR:?}" "${XGW_SOURCE_DIR:?}"
export XGW_PLUGIN_DIR
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xgwclimock.XXXXXX")
OUT=$TMP/out
ERR=$TMP/err
MOCK_PID=
fails=0

mock_stop() {
    if [ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null; then
        kill -TERM "$MOCK_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$MOCK_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$MOCK_PID" 2>/dev/null
    fi
    MOCK_PID=
}

mock_cleanup() {
    mock_stop
    rm -rf "$TMP"
}
trap mock_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

mock_start() {
    # The mock lives until SIGTERM; `timeout` is a backstop should the trap not run.
    rm -f "$TMP/mock.out" "$TMP/mock.err"
    timeout -k 5 280 "$XGW_MOCKEX" --port 0 "$@" >"$TMP/mock.out" 2>"$TMP/mock.err" &
    local waiter=$!
    local line=
    for _ in $(seq 1 100); do
        line=$(head -n 1 "$TMP/mock.out" 2>/dev/null)
        [ -n "$line" ] && break
        kill -0 "$waiter" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$line" ]; then
        echo "FAIL: the mock exchange did not start: $(cat "$TMP/mock.err")" >&2
        exit 1
    fi
    read -r MOCK_PORT MOCK_CERT MOCK_PID < <(python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert len(o["ports"]) == 1 and o["ports"][0] > 0
print(o["ports"][0], o["cert"], o["pid"])' "$line") || { echo "FAIL: bad start line: $line" >&2; exit 1; }
}

mock_config() {
    local file=$1 plugin=$2 network=$3
    shift 3
    {
        echo "[gateway]"
        echo "log_level = error"
        echo
        echo "[exchange.$plugin]"
        echo "plugin = $plugin"
        echo "network = $network"
        echo "api_key = \${KEY_VAR}"
        echo "api_secret = \${SECRET_VAR}"
        case " $* " in *" rest_endpoints ="*) ;; *) echo "rest_endpoints = https://127.0.0.1:$MOCK_PORT" ;; esac
        echo "ws_endpoints = wss://127.0.0.1:$MOCK_PORT"
        echo "ca_file = $MOCK_CERT"
        echo "request_timeout_ms = 5000"
        for l in "$@"; do echo "$l"; done
    } >"$file"
}

xgw() {
    timeout -k 5 30 "$XGW_BIN" "$@" >"$OUT" 2>"$ERR"
    rc=$?
}

# py WHAT SCRIPT [ARGS...]: run a python3 check over $OUT (argv[1]) and $ERR
# (argv[2]); a failed assertion is reported with WHAT and the command's output.
py() {
    local what=$1 script=$2
    shift 2
    if ! python3 -c "$script" "$OUT" "$ERR" "$@" >"$TMP/py.out" 2>&1; then
        fail "$what: $(tail -n 3 "$TMP/py.out") | rc=$rc stdout: $(head -c 1500 "$OUT") stderr: $(head -c 1500 "$ERR")"
        return 1
    fi
}

# mock_state FILE: the mock's GET /_mock/state into FILE
mock_state() {
    if ! curl -sS --fail --max-time 10 --cacert "$MOCK_CERT" -o "$1" "https://127.0.0.1:$MOCK_PORT/_mock/state"; then
        fail "GET /_mock/state failed"
        echo '{}' >"$1"
    fi
}

# no_secrets WHAT: no word of $SECRETS appears in the last command's output
no_secrets() {
    local s
    for s in ${SECRETS:-}; do
        if grep -qF -- "$s" "$OUT" "$ERR"; then fail "$1: a secret was printed"; fi
    done
}

# ok WHAT: the last command exited 0
ok() {
    if [ "$rc" -ne 0 ]; then
        fail "$1: exit $rc, stdout: $(head -c 1000 "$OUT") stderr: $(head -c 1500 "$ERR")"
        return 1
    fi
}

mock_finish() {
    if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
