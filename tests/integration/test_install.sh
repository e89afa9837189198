#!/usr/bin/env bash
# tests/integration/test_install.sh — xgw as an installed library.
#
# `cmake --install` of the build tree (XGW_BUILD_DIR) into a temporary
# prefix, then, using nothing of the source or build tree but the two example
# folders:
#   - the installed files are there (libxgw.so/.a, headers, plugins under
#     <libdir>/xgw/plugins, xgw and xgw-mockex, xgw.pc, the CMake package);
#   - pkg-config (PKG_CONFIG_PATH only) gives working --cflags/--libs: a
#     program compiled and linked with them runs;
#   - the installed CLI finds the installed plugins when nothing names a
#     plugin folder (no plugin_dir, no $XGW_PLUGIN_DIR);
#   - tools/examples/engine builds with find_package(xgw) (CMAKE_PREFIX_PATH),
#     linked to libxgw.so and to libxgw.a, and each build, run against the
#     installed mock exchange, streams a book and places and cancels an order
#     (checked in its output and in the mock's state);
#   - tools/examples/plugin-minimal builds out of tree (CMake and the
#     pkg-config one-liner), exports one symbol, and the installed CLI loads
#     it: `check` and `time` answered by the mock, other ops UNSUPPORTED.
#
# Sanitizer builds: an XGW_SANITIZE tree installs ASan/UBSan-instrumented
# libraries, and the installed targets and xgw.pc carry -fsanitize=... in
# their link flags, so the examples are built exactly as in a normal tree;
# nothing is skipped. Every process is bounded by `timeout`; the mock is
# stopped by its PID (lib_mock.sh's EXIT trap).
: "${XGW_SOURCE_DIR:?run through ctest}"
. "$XGW_SOURCE_DIR/tests/integration/lib_mock.sh"

SECRETS="2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9 dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

# run WHAT TIMEOUT CMD...: bounded, output to $TMP/WHAT.log; fails the test
# (and stops it: later steps need this one) when CMD fails.
run() {
    local what=$1 t=$2
    shift 2
    local st=0
    timeout -k 5 "$t" "$@" >"$TMP/$what.log" 2>&1 || st=$?
    if [ "$st" -ne 0 ]; then
        echo "FAIL: $what: $* (exit $st)" >&2
        tail -n 40 "$TMP/$what.log" >&2
        exit 1
    fi
}

# ---- 1. install -----------------------------------------------------------
# The tree ctest runs from is the one installed (ctest builds it first), so
# a normal and an ASan tree are each tested as what they are.
BUILD=${XGW_BUILD_DIR:?run through ctest}
PREFIX=$TMP/prefix
run install 120 cmake --install "$BUILD" --prefix "$PREFIX"
sanitize=$(sed -n 's/^XGW_SANITIZE:BOOL=//p' "$BUILD/CMakeCache.txt")
echo "installed $BUILD into $PREFIX (XGW_SANITIZE=${sanitize:-OFF})"

pc=$(find "$PREFIX" -name xgw.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no xgw.pc installed" >&2; exit 1; }
LIBDIR=$(dirname "$(dirname "$pc")")
for f in "$LIBDIR/libxgw.so" "$LIBDIR/libxgw.a" "$PREFIX/include/xgw/xgw.h" "$PREFIX/include/xgw/stream.h" \
    "$PREFIX/include/xgw/types.h" "$PREFIX/include/xgw/plugin.h" "$LIBDIR/xgw/plugins/binance.so" \
    "$LIBDIR/xgw/plugins/bitunix.so" "$LIBDIR/xgw/plugins/hyperliquid.so" "$PREFIX/bin/xgw" \
    "$PREFIX/bin/xgw-mockex" "$LIBDIR/cmake/xgw/xgwConfig.cmake" "$LIBDIR/cmake/xgw/xgwConfigVersion.cmake"; do
    [ -e "$f" ] || fail "not installed: ${f#"$PREFIX"/}"
done
# Internal headers stay in the tree.
[ -e "$PREFIX/include/xgw/gateway.h" ] && fail "an internal header was installed"

# From here on only the prefix is used: the CLI, the mock and the plugins
# are the installed ones, and no variable points back at the build tree.
unset XGW_PLUGIN_DIR XGW_TEST_PLUGIN_DIR
XGW_BIN=$PREFIX/bin/xgw
XGW_MOCKEX=$PREFIX/bin/xgw-mockex
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig

# ---- 2. pkg-config ---------------------------------------------------------
cflags=$(pkg-config --cflags xgw) || fail "pkg-config --cflags xgw failed"
libs=$(pkg-config --libs xgw) || fail "pkg-config --libs xgw failed"
inc=$(python3 -c 'import os,sys; print(" ".join(os.path.realpath(w[2:]) for w in sys.argv[1].split() if w.startswith("-I")))' "$cflags")
case " $inc " in *" $(realpath "$PREFIX/include") "*) ;; *) fail "--cflags lacks -I$PREFIX/include: $cflags" ;; esac
ldirs=$(python3 -c 'import os,sys; print(" ".join(os.path.realpath(w[2:]) for w in sys.argv[1].split() if w.startswith("-L")))' "$libs")
case " $ldirs " in *" $(realpath "$LIBDIR") "*) ;; *) fail "--libs lacks -L$LIBDIR: $libs" ;; esac
case " $libs " in *" -lxgw "*) ;; *) fail "--libs lacks -lxgw: $libs" ;; esac
if [ "$sanitize" = ON ]; then
    case " $libs " in *" -fsanitize=address,undefined "*) ;; *) fail "sanitizer build: --libs lacks -fsanitize: $libs" ;; esac
fi
[ "$(pkg-config --modversion xgw)" = "$(sed -n 's/^#define XGW_VERSION "\(.*\)"/\1/p' "$PREFIX/include/xgw/xgw.h")" ] ||
    fail "pkg-config --modversion differs from XGW_VERSION"
[ "$(realpath "$(pkg-config --variable=plugindir xgw)")" = "$(realpath "$LIBDIR/xgw/plugins")" ] ||
    fail "pkg-config plugindir is not $LIBDIR/xgw/plugins"

cat >"$TMP/pc.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <xgw/xgw.h>
int main(void)
{
    xgw_dec d;
    char s[XGW_DEC_STRLEN];
    if (xgw_dec_parse_cstr("97123.40", &d) || !xgw_dec_format(d, s, sizeof s) || strcmp(s, "97123.40"))
        return 1;
    printf("xgw %s %s %s\n", xgw_version(), s, xgw_err_kind_name(XGW_ERR_AUTH));
    return 0;
}
EOF
# shellcheck disable=SC2086 # word splitting of the flags is the point
run pc-build 120 ${CC:-cc} -std=c11 -Wall -Werror $cflags "$TMP/pc.c" -o "$TMP/pc" $libs -Wl,-rpath,"$LIBDIR"
run pc-run 30 "$TMP/pc"
grep -qx "xgw $(pkg-config --modversion xgw) 97123.40 AUTH" "$TMP/pc-run.log" ||
    fail "the pkg-config program printed: $(cat "$TMP/pc-run.log")"

# ---- 3. the installed CLI finds the installed plugins ---------------------
printf '[gateway]\nlog_level = error\n\n[exchange.bn]\nplugin = binance\nnetwork = testnet\n' >"$TMP/noplugdir.ini"
xgw -c "$TMP/noplugdir.ini" check
ok "installed xgw check without plugin_dir" &&
    py "check output" 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert o["plugin"]=="binance" and o["abi"]==2, o'
# The folder it looked in, named by the error for a plugin that is not there.
printf '[gateway]\nlog_level = error\n\n[exchange.x]\nplugin = nosuch\n' >"$TMP/nosuch.ini"
xgw -c "$TMP/nosuch.ini" check
[ "$rc" -eq 2 ] || fail "a missing plugin: exit $rc, want 2"
grep -qF "$(realpath "$LIBDIR/xgw/plugins")/nosuch.so" "$ERR" ||
    fail "the default plugin folder is not the installed one: $(cat "$ERR")"

# ---- 4. build the examples against the prefix ------------------------------
EX=$XGW_SOURCE_DIR/tools/examples
run engine-configure 300 cmake "${GEN[@]}" -S "$EX/engine" -B "$TMP/engine" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_BUILD_TYPE=Debug
run engine-build 300 cmake --build "$TMP/engine"
run engine-static-configure 300 cmake "${GEN[@]}" -S "$EX/engine" -B "$TMP/engine-static" \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Debug -DENGINE_STATIC=ON
run engine-static-build 300 cmake --build "$TMP/engine-static"
# The shared build really uses the installed libxgw.so; the static one none.
ldd "$TMP/engine/engine" | grep -qF "$(realpath "$LIBDIR")/libxgw.so" ||
    ldd "$TMP/engine/engine" | grep -qF "$LIBDIR/libxgw.so" || fail "engine is not linked to $LIBDIR/libxgw.so: $(ldd "$TMP/engine/engine")"
ldd "$TMP/engine-static/engine" | grep -q libxgw && fail "the static engine needs libxgw.so"

run plugin-configure 300 cmake "${GEN[@]}" -S "$EX/plugin-minimal" -B "$TMP/pm" -DCMAKE_PREFIX_PATH="$PREFIX"
run plugin-build 300 cmake --build "$TMP/pm"
mkdir -p "$TMP/pm-pc"
# shellcheck disable=SC2086
run plugin-pc-build 120 ${CC:-cc} -std=c11 -Wall -Werror -shared -fPIC -fvisibility=hidden $cflags \
    -Wl,-z,defs -Wl,--version-script="$EX/plugin-minimal/plugin.map" "$EX/plugin-minimal/minimal.c" \
    -o "$TMP/pm-pc/minimal.so"
for so in "$TMP/pm/plugins/minimal.so" "$TMP/pm-pc/minimal.so"; do
    exports=$(nm -D --defined-only "$so" | awk '{print $3}' | tr '\n' ' ')
    [ "$exports" = "xgw_plugin_entry " ] || fail "$so exports [$exports], want only xgw_plugin_entry"
done

# ---- 5. run them against the installed mock --------------------------------
mock_start --seed 7
echo "mock (installed) on 127.0.0.1:$MOCK_PORT, pid $MOCK_PID"
cat >"$TMP/engine.ini" <<EOF
; no plugin_dir: libxgw.so finds <libdir>/xgw/plugins next to itself
[gateway]
log_level = warn

[exchange.binance]
plugin = binance
network = testnet
rest_endpoints = https://127.0.0.1:$MOCK_PORT
ws_endpoints = wss://127.0.0.1:$MOCK_PORT
ca_file = $MOCK_CERT
api_key = \${KEY_VAR}
api_secret = \${SECRET_VAR}
request_timeout_ms = 5000
EOF
export KEY_VAR=dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83
export SECRET_VAR=2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9

# A program linking libxgw.a finds <libdir>/xgw/plugins by itself only from
# <prefix>/bin; anywhere else its config names the folder (the CMake package
# gives it as xgw_PLUGIN_DIR, pkg-config as plugindir).
{
    echo "[gateway]"
    echo "plugin_dir = $(pkg-config --variable=plugindir xgw)"
    sed -n '/^log_level/,$p' "$TMP/engine.ini"
} >"$TMP/engine-static.ini"

check_engine() {
    local name=$1 bin=$2
    timeout -k 5 60 "$bin" "$TMP/$name.ini" binance BTCUSDT >"$OUT" 2>"$ERR"
    rc=$?
    echo "--- $name output:"
    cat "$OUT"
    ok "$name" || return
    no_secrets "$name"
    py "$name output" '
import re, sys
out = open(sys.argv[1]).read().splitlines()
books = [l for l in out if re.match(r"book BTCUSDT seq=\d+ bid \d+(\.\d+)? x \d+(\.\d+)? ask \d+(\.\d+)? x ", l)]
assert len(books) >= 3, "fewer than 3 book lines"
placed = [l for l in out if l.startswith("placed BTCUSDT ")]
cancelled = [l for l in out if l.startswith("cancelled BTCUSDT ")]
assert len(placed) == 1 and "status=new" in placed[0], placed
oid = re.search(r"order_id=(\S+)", placed[0]).group(1)
assert oid, placed
assert len(cancelled) == 1 and ("order_id=%s " % oid) in cancelled[0] and "status=canceled" in cancelled[0], cancelled
assert out[-1].startswith("done: "), out[-1]
# the order went below the book: price = floor(0.8 * best bid at that time)
m = re.search(r"price=(\d+)(\.0+)?\b", placed[0])
assert m, placed[0]
'
}
check_engine engine "$TMP/engine/engine"
check_engine engine-static "$TMP/engine-static/engine"

# The mock saw two orders placed and two cancelled, and none is left open.
mock_state "$TMP/state.json"
touch "$TMP/state.err"
OUT=$TMP/state.json ERR=$TMP/state.err py "mock state" '
import json, sys
s = json.load(open(sys.argv[1]))
def walk(o, path=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from walk(v, path + "/" + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, path + "/" + str(i))
    else:
        yield path, o
c = s["counters"]["binance"]
assert c.get("orders_placed") == 2 and c.get("orders_canceled") == 2, c
open_ = [p for p, v in walk(s) if "binance" in p and "open" in p.lower() and "order" in p.lower()]
assert not open_, ("open orders left", open_)
'

# The out-of-tree plugin through the installed CLI.
for dir in "$TMP/pm/plugins" "$TMP/pm-pc"; do
    cat >"$TMP/minimal.ini" <<EOF
[gateway]
plugin_dir = $dir
log_level = error

[exchange.mini]
plugin = minimal
rest_endpoints = https://127.0.0.1:$MOCK_PORT
ca_file = $MOCK_CERT
EOF
    xgw -c "$TMP/minimal.ini" check
    ok "minimal ($dir): check" &&
        py "minimal check" 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert o["plugin"]=="minimal" and o["abi"]==2 and o["plugin_version"]=="0.1.0", o'
    xgw -c "$TMP/minimal.ini" time
    ok "minimal ($dir): time" &&
        py "minimal time" '
import json, sys, time
o = json.loads(open(sys.argv[1]).read())
assert o["exchange"] == "mini" and isinstance(o["server_time_ms"], int), o
assert abs(o["server_time_ms"] - time.time() * 1000) < 60000, o
'
    xgw -c "$TMP/minimal.ini" ticker BTCUSDT
    [ "$rc" -eq 1 ] || fail "minimal: ticker exit $rc, want 1"
    grep -q '"kind":"UNSUPPORTED"' "$ERR" || fail "minimal: ticker error: $(cat "$ERR")"
done

mock_finish
