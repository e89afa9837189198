#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, build with warnings as
# errors, run every test with CTest. XGW_SANITIZE=1 in the environment builds the
# ASan+UBSan tree (build-asan/) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh

build=build
flags=(-DXGW_WERROR=ON)
if [ "${XGW_SANITIZE:-0}" = 1 ]; then
  build=build-asan
  flags+=(-DXGW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 600
