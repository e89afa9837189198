#!/bin/bash
# tests/integration/test_cli_check.sh — `xgw check` on the example configs
# (exit 0, one JSON line per instance, fields checked, no secret printed),
# on broken configs (exit 2, one JSON error on stderr with kind, file, line,
# key), and the --help texts. Every xgw run is bounded by `timeout`.
set -u
: "${XGW_BIN:?run through ctest}" "${XGW_SOURCE_DIR:?}" "${XGW_PLUGIN_DIR:?}"
CONF="$XGW_SOURCE_DIR/config"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xgwcli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# secrets the example configs take from the environment (fake values)
export BINANCE_API_KEY=bnkey-test-0123456789 BINANCE_API_SECRET=bnsecret-test-abcdefghij
export BINANCE2_API_KEY=bnkey2-test-0123456789 BINANCE2_API_SECRET=bnsecret2-test-abcdefghij
export BITUNIX_API_KEY=bxkey-test-0123456789 BITUNIX_API_SECRET=bxsecret-test-abcdefghij
export HYPERLIQUID_ADDRESS=0x1111111111111111111111111111111111111111
export HYPERLIQUID_PRIVATE_KEY=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
SECRETS="$BINANCE_API_SECRET $BINANCE2_API_SECRET $BITUNIX_API_SECRET $HYPERLIQUID_PRIVATE_KEY $BINANCE_API_KEY $BITUNIX_API_KEY"

run() { # run ARGS...: sets rc, out, err
    timeout -k 5 30 "$XGW_BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}

no_secrets() { # no_secrets WHAT: neither stdout nor stderr holds a secret
    for s in $SECRETS; do
        if grep -qF -- "$s" "$TMP/out" "$TMP/err"; then fail "$1: a secret value was printed"; fi
    done
}

# check_ok CONFIG EXPECTED_INSTANCES PLUGIN...: exit 0 and one valid line per instance
check_ok() {
    local cfg=$1 n=$2
    run -c "$CONF/$cfg" check
    if [ $rc -ne 0 ]; then fail "$cfg: exit $rc, stderr: $err"; return; fi
    # stderr may hold log lines (plugins log at info while starting), never an error
    ! grep -q '^{"error"' "$TMP/err" || fail "$cfg: error on stderr despite exit 0: $err"
    no_secrets "$cfg"
    python3 - "$TMP/out" "$n" <<'PY' || fail "$cfg: output check failed"
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines()]
n = int(sys.argv[2])
assert len(lines) == n, f"{len(lines)} lines, expected {n}"
keys = {"instance", "plugin", "plugin_version", "abi", "network", "rest_endpoints", "ws_endpoints", "api_key_set"}
seen = set()
for l in lines:
    o = json.loads(l)
    assert set(o) == keys, f"fields {sorted(o)}"
    assert o["instance"] not in seen
    seen.add(o["instance"])
    assert o["abi"] == 2
    assert isinstance(o["plugin_version"], str) and o["plugin_version"]
    assert o["plugin"] in ("binance", "bitunix", "hyperliquid"), o["plugin"]
    assert o["rest_endpoints"] and all(u.startswith("https://") for u in o["rest_endpoints"]), o["rest_endpoints"]
    assert all(u.startswith("wss://") for u in o["ws_endpoints"]), o["ws_endpoints"]
    assert o["api_key_set"] is True
    assert isinstance(o["network"], str) and o["network"]
print("ok", sorted(seen))
PY
}

check_ok binance.ini 1
check_ok bitunix.ini 1
check_ok hyperliquid.ini 1
check_ok all.ini 4

# one instance of several
run -c "$CONF/all.ini" -x bitunix check
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q '"instance":"bitunix"' ||
    fail "-x bitunix: rc=$rc out=$out err=$err"

# the plugin folder comes from the environment or the flag, not the file
run --plugin-dir "$TMP/nowhere" -c "$CONF/binance.ini" check
[ $rc -eq 2 ] || fail "bad --plugin-dir: exit $rc"
python3 -c '
import json, sys
e = json.loads(sys.stdin.read())["error"]
assert e["kind"] == "PLUGIN", e
assert e["key"] == "plugin" and e["line"] > 0 and e["file"].endswith("binance.ini"), e
assert "nowhere" in e["message"], e
' <<<"$err" || fail "bad --plugin-dir: error JSON: $err"

# expect_error CONFIG_TEXT KIND LINE KEY NEEDLE [ENV...]
expect_error() {
    local text=$1 kind=$2 line=$3 key=$4 needle=$5
    printf '%s' "$text" >"$TMP/broken.ini" && chmod 644 "$TMP/broken.ini"
    run -c "$TMP/broken.ini" check
    if [ $rc -ne 2 ]; then fail "broken config ($needle): exit $rc, out=$out err=$err"; return; fi
    [ -z "$out" ] || fail "broken config ($needle): stdout not empty: $out"
    no_secrets "broken ($needle)"
    python3 - "$kind" "$line" "$key" "$needle" "$TMP/broken.ini" "$TMP/err" <<'PY' || fail "broken config ($needle): $err"
import json, sys
kind, line, key, needle, path, errfile = sys.argv[1:]
lines = [l for l in open(errfile).read().splitlines() if l.startswith('{"error"')]
assert len(lines) == 1, "exactly one error object on stderr"
e = json.loads(lines[0])["error"]
assert e["kind"] == kind, e
assert e["file"] == path, e
assert e["line"] == int(line), e
assert (e["key"] or "") == key, e
assert needle in e["message"], e
PY
}

expect_error $'[exchange.bn]\nplugin = binance\nnetwork = testnet\npool_mx = 4\n' CONFIG 4 pool_mx 'did you mean "pool_max"?'
expect_error $'[gateway]\nlog_level = loud\n' CONFIG 2 log_level 'one of error, warn, info, debug'
expect_error $'[exchange.bn]\nplugin = binance\napi_secret = ${XGW_TEST_UNSET_VAR}\n' CONFIG 3 api_secret 'XGW_TEST_UNSET_VAR is not set'
expect_error $'[exchange.bn]\nplugin = binance\nnetwork = moonnet\n' CONFIG 3 network 'is not offered by plugin binance'
expect_error $'[exchange.bn]\nplugin = nosuchexchange\n' PLUGIN 2 plugin 'not found'
expect_error $'[exchange.bn\nplugin = binance\n' CONFIG 1 '' 'unterminated section header'
printf 'bnsecret-test-abcdefghij\n' >"$TMP/secret" && chmod 644 "$TMP/secret"
expect_error $'[exchange.bn]\nplugin = binance\napi_key = x\n\napi_secret_file = secret\n' CONFIG 5 api_secret_file 'chmod 600'
chmod 600 "$TMP/secret"
printf '[exchange.bn]\nplugin = binance\nnetwork = testnet\napi_key = k\napi_secret_file = secret\n' >"$TMP/ok.ini"
run -c "$TMP/ok.ini" check
[ $rc -eq 0 ] || fail "secret file 0600: exit $rc: $err"
no_secrets "secret file"
# A secret written in the config itself: the file must be private too (the
# core's api_secret and a plugin's secret key alike); ${VAR} is fine anywhere.
expect_error $'[exchange.bn]\nplugin = binance\napi_key = k\napi_secret = inlinesecret-xyz\n' CONFIG 4 api_secret 'chmod 600'
expect_error $'[exchange.hl]\nplugin = hyperliquid\nprivate_key = 0x0123456789012345678901234567890123456789012345678901234567890123\n' CONFIG 3 private_key 'chmod 600'
printf '[exchange.bn]\nplugin = binance\nnetwork = testnet\napi_key = k\napi_secret = inlinesecret-xyz\n' >"$TMP/inl.ini"
chmod 600 "$TMP/inl.ini"
run -c "$TMP/inl.ini" check
[ $rc -eq 0 ] || fail "inline secret in a 0600 file: exit $rc: $err"
printf '[exchange.bn]\nplugin = binance\nnetwork = testnet\napi_key = k\napi_secret = ${BN_SEC_TEST}\n' >"$TMP/env.ini"
chmod 644 "$TMP/env.ini"
BN_SEC_TEST=fromtheenvironment run -c "$TMP/env.ini" check
[ $rc -eq 0 ] || fail "secret from \${VAR} in a 0644 file: exit $rc: $err"

# help texts
run --help
[ $rc -eq 0 ] && grep -q 'check' "$TMP/out" && grep -q 'pool_max' "$TMP/out" || fail "--help: rc=$rc"
# docs/config.md documents every core key that --help lists
for k in $(sed -n 's/^  \[[a-z]*\] \([a-z0-9_]*\) .*/\1/p' "$TMP/out"); do
    grep -q "| \`$k\` |" "$XGW_SOURCE_DIR/docs/config.md" || fail "docs/config.md lacks key $k"
done
[ "$(sed -n 's/^  \[[a-z]*\] \([a-z0-9_]*\) .*/\1/p' "$TMP/out" | wc -l)" -ge 40 ] || fail "--help lists too few keys"
run check --help
[ $rc -eq 0 ] && grep -q 'Usage: xgw' "$TMP/out" || fail "check --help: rc=$rc"
run frobnicate
[ $rc -eq 2 ] && python3 -c 'import json,sys; assert json.loads(sys.stdin.read())["error"]["kind"]=="USAGE"' <<<"$err" ||
    fail "unknown command: rc=$rc err=$err"
run check
[ $rc -eq 2 ] || fail "check without -c: rc=$rc"

if [ $fails -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "all xgw check tests passed"
