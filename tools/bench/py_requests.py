#!/usr/bin/env python3
"""The Python comparison of tools/bench/run.sh: signed Binance balance
requests against the mock exchange with `requests`, the way a Python bot
sends them.

  --pool     one requests.Session with a mounted HTTPAdapter (pool of one
             kept-alive TLS connection): the usual approach
  --no-pool  requests.get() per request: a new TCP + TLS connection each time

Prints one JSON object like xgw-bench's: requests/s, client CPU us/request
(user+sys of this process over the loop), p50/p99 latency in us. Exit 1 on
any failed request, 2 when python3-requests is missing."""
import argparse
import hashlib
import hmac
import json
import math
import resource
import sys
import time

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    sys.stderr.write("py_requests.py: the Python module 'requests' is missing: "
                     "apt-get install python3-requests\n")
    sys.exit(2)

KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
SECRET = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def csw():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_nvcsw + r.ru_nivcsw


def pct(v, p):
    k = max(1, math.ceil(p / 100.0 * len(v)))
    return v[k - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--n", type=int, default=1000)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--pool", dest="pool", action="store_true", default=True)
    g.add_argument("--no-pool", dest="pool", action="store_false")
    a = ap.parse_args()

    headers = {"X-MBX-APIKEY": KEY}
    if a.pool:
        s = requests.Session()
        s.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
        get = s.get
    else:
        get = requests.get

    def one():
        q = "recvWindow=5000&timestamp=%d" % int(time.time() * 1000)
        sig = hmac.new(SECRET, q.encode(), hashlib.sha256).hexdigest()
        r = get("%s/fapi/v3/balance?%s&signature=%s" % (a.url, q, sig), headers=headers, verify=a.ca,
                timeout=10)
        return r.status_code == 200 and '"asset"' in r.text

    errors = 0
    for _ in range(5 if a.pool else 0):  # warm the pooled connection, as the C clients do
        errors += not one()
    lat = []
    t0, c0, k0 = time.monotonic(), cpu(), csw()
    for _ in range(a.n):
        s0 = time.monotonic()
        ok = one()
        lat.append((time.monotonic() - s0) * 1e6)
        if not ok:
            errors += 1
    t1, c1, k1 = time.monotonic(), cpu(), csw()
    lat.sort()
    print(json.dumps({"bench": "rest_seq", "client": "python_pool" if a.pool else "python_nopool",
                      "inflight": 1, "n": a.n, "errors": errors, "secs": round(t1 - t0, 6),
                      "rate": round(a.n / (t1 - t0), 1), "cpu_us": round((c1 - c0) * 1e6 / a.n, 2),
                      "csw": round((k1 - k0) / a.n, 2),
                      "p50_us": round(pct(lat, 50), 1), "p99_us": round(pct(lat, 99), 1)}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
