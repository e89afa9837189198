#!/usr/bin/env bash
# xgw benchmarks: every comparison of the benchmark issue, side by side in one run against the mock
# exchange on loopback, repeated; prints a table of medians, ratios and targets, and writes
# BUILD_DIR/bench/{results.jsonl,summary.json,summary.md}.
#
# Usage: tools/bench/run.sh [BUILD_DIR] [--reps N] [--smoke] [--out DIR]
#   BUILD_DIR  a build tree (default: build); use a release build (RelWithDebInfo or Release)
#   --reps N   repetitions of every measurement (default 5; medians are taken over them)
#   --out DIR  where the results go (default: BUILD_DIR/bench)
#   --smoke    tiny counts and no Python comparison: checks that every path works (the test suite)
# Needs python3 and, except with --smoke, python3-requests (Debian package).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="" reps=5 smoke=0 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) build=$1; shift ;;
  esac
done
build=$(cd "${build:-$root/build}" && pwd)
bench="$build/tools/bench/xgw-bench"
mockex="$build/tools/mockex/xgw-mockex"
xgw="$build/tools/xgw/xgw"
export XGW_PLUGIN_DIR="$build/plugins"
for f in "$bench" "$mockex" "$xgw"; do
  [ -x "$f" ] || { echo "run.sh: $f is missing: build the tree first (cmake --build $build)" >&2; exit 2; }
done
if [ "$smoke" = 0 ] && ! python3 -c 'import requests' 2>/dev/null; then
  echo "run.sh: the Python comparison needs the 'requests' module: apt-get install python3-requests" >&2
  exit 2
fi

# Counts per repetition (full run, then smoke).
if [ "$smoke" = 1 ]; then
  n_seq=100 n_fresh=20 n_conc=200 n_sign=2000 n_ingest=2000 live_s=1 foot_s=2 n_exec=3
  n_recov=3
else
  n_seq=3000 n_fresh=300 n_py=1000 n_pynp=200 n_conc=10000 n_sign=200000 n_ingest=200000 live_s=3 foot_s=5 n_exec=20
  n_recov=20
fi

out=${out:-$build/bench}
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_mock NAME ARGS...: sets NAME_url and NAME_ca
start_mock() {
  local name=$1; shift
  "$mockex" --port 0 --seed 7 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$tmp/$name.out" ] && break; sleep 0.05; done
  local line port ca
  line=$(head -n1 "$tmp/$name.out")
  [ -n "$line" ] || { echo "run.sh: the mock exchange did not start: $(cat "$tmp/$name.err")" >&2; exit 1; }
  port=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ports"][0])' "$line")
  ca=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cert"])' "$line")
  printf -v "${name}_url" '%s' "https://127.0.0.1:$port"
  printf -v "${name}_ca" '%s' "$ca"
}
# The REST mock runs in bench mode (no rate limits, cached answers, no per-request logs); the
# flood mock pushes WS frames as fast as the client reads (its own process, so floods do not
# slow the REST measurements).
start_mock rest --bench
start_mock flood --bench --ws-flood
# The footprint runs the demo against a mock of its own, in normal mode: the Binance mock counts
# request weight per IP, and the REST benchmarks spend far more than a minute's 2400, which
# xgw (rightly) honours by holding back the book snapshots.
start_mock foot

results="$out/results.jsonl"
: >"$results"
# run LABEL CMD...: one measurement; its JSON lines go to results, failures stop the run
run() {
  local label=$1; shift
  if ! timeout 300 "$@" >>"$results" 2>"$tmp/last.err"; then
    echo "run.sh: $label failed:" >&2
    cat "$tmp/last.err" >&2
    exit 1
  fi
}
R=(--url "$rest_url" --ca "$rest_ca")

# `xgw check` on the demo configuration (its variables point at the REST mock).
export XGW_MOCK_URL="$rest_url" XGW_MOCK_WSS="wss://${rest_url#https://}" XGW_MOCK_CA="$rest_ca"
. "$root/config/demo.env"

for rep in $(seq "$reps"); do
  echo "# repetition $rep/$reps" >&2
  # 1. sequential, one kept-alive connection (clients interleaved, so noise hits all alike)
  run "curl seq" "$bench" rest --client curl "${R[@]}" --n "$n_seq"
  run "xgw seq" "$bench" rest --client xgw "${R[@]}" --n "$n_seq"
  run "xgw host-loop seq" "$bench" rest --client xgw --host-loop "${R[@]}" --n "$n_seq"
  run "curl fresh" "$bench" rest --client fresh "${R[@]}" --n "$n_fresh"
  if [ "$smoke" = 0 ]; then
    run "python pooled" python3 "$here/py_requests.py" "${R[@]}" --n "$n_py"
    run "python no pool" python3 "$here/py_requests.py" "${R[@]}" --n "$n_pynp" --no-pool
  fi
  # 2. concurrent
  for k in 16 64; do
    run "curl multi $k" "$bench" rest --client curl --inflight "$k" "${R[@]}" --n "$n_conc"
    run "xgw async $k" "$bench" rest --client xgw --inflight "$k" "${R[@]}" --n "$n_conc"
  done
  # 3. signing, 4. ingest
  run "sign" "$bench" sign --n "$n_sign"
  run "ingest" "$bench" ingest --n "$n_ingest"
  run "live ingest" "$bench" live --url "$flood_url" --ca "$flood_ca" --seconds "$live_s"
  # 5. WS recovery (drop -> first event after resubscription), against the flooding mock
  run "ws recovery" "$bench" recovery --url "$flood_url" --ca "$flood_ca" --n "$n_recov"
  # 5b. REST failover: a mock of its own per trial is the first endpoint and is killed (SIGKILL)
  run "rest failover" "$bench" failover "${R[@]}" --mockex "$mockex" --n "$n_recov"
  # 6. footprint and start-up
  run "footprint" "$bench" footprint --url "$foot_url" --ca "$foot_ca" --seconds "$foot_s"
  run "xgw check" "$bench" exec --n "$n_exec" -- "$xgw" -c "$root/config/demo.ini" check
done

machine="$tmp/machine.json"
python3 - "$machine" "$reps" "$smoke" <<'EOF'
import json, os, platform, subprocess, sys
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""
cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -n1") or platform.processor()
try:
    import requests
    rq = requests.__version__
except ImportError:
    rq = "absent"
json.dump({"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
           "os": sh(". /etc/os-release; echo $PRETTY_NAME"), "loadavg": os.getloadavg()[0],
           "libcurl": sh("pkg-config --modversion libcurl"),
           "openssl": sh("pkg-config --modversion openssl"), "python": platform.python_version(),
           "requests": rq, "reps": int(sys.argv[2]), "smoke": sys.argv[3] == "1",
           "date": sh("date -u +%Y-%m-%dT%H:%MZ")}, open(sys.argv[1], "w"))
EOF
smoke_arg=()
[ "$smoke" = 1 ] && smoke_arg=(--smoke)
python3 "$here/report.py" "$results" "$machine" "$out" "${smoke_arg[@]}"
echo "# written: $out/summary.md $out/summary.json $results" >&2
