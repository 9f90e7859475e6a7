#!/usr/bin/env python3
"""Latency of a fresh TCP connection + one HTTP/1.1 request, N times.

    fresh_conn.py URL N [TOKEN]

Each iteration: connect, send the request with `Connection: close`, read the
whole reply until the server closes, check the status is 200. Timed with
perf_counter from before connect() to the last byte. Prints one JSON line.
"""
import json, socket, statistics, sys, time
from urllib.parse import urlparse

url, n = sys.argv[1], int(sys.argv[2])
token = sys.argv[3] if len(sys.argv) > 3 else ""
u = urlparse(url)
auth = f"Authorization: Bearer {token}\r\n" if token else ""
req = (f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n{auth}"
       "Connection: close\r\n\r\n").encode()
lat, bad = [], 0
for i in range(n + 20):
    t0 = time.perf_counter()
    s = socket.create_connection((u.hostname, u.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(req)
    buf = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    dt = time.perf_counter() - t0
    if not buf.startswith(b"HTTP/1.1 200"):
        bad += 1
    if i >= 20:  # warm-up excluded
        lat.append(dt * 1000)
lat.sort()
print(json.dumps({
    "n": n, "non200": bad,
    "p50_ms": round(statistics.median(lat), 3),
    "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 3),
    "max_ms": round(lat[-1], 3),
}))
