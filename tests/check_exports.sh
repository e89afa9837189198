#!/usr/bin/env bash
# A plugin must export exactly one dynamic symbol: xgw_plugin_entry.
set -eu
syms=$(nm -D --defined-only "$1" | awk '{print $3}' | grep -v '^$' | sort -u)
if [ "$syms" != "xgw_plugin_entry" ]; then
  echo "FAIL: $1 exports:"; echo "$syms"; exit 1
fi
echo "ok: $1 exports only xgw_plugin_entry"
