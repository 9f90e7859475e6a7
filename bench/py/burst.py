#!/usr/bin/env python3
"""A burst of `request_resource` calls into one project, over MCP (bench/burst.sh).

    burst.py URL KEY COUNT ROUNDS PREFIX [SERVICE]

Each round opens COUNT connections, then sends COUNT `request_resource` calls
at once (one thread each, released by a barrier; names PREFIX-ROUND-I) and
times how long each takes to answer. Prints one JSON line per round. The
server should be unarmed: the requests are recorded `planned`, so no
Terraform runs and the answer time is the request path alone.
"""
import http.client, json, socket, statistics, sys, threading, time
from urllib.parse import urlparse

url, key, count, rounds, prefix = sys.argv[1:6]
service = sys.argv[6] if len(sys.argv) > 6 else "demo-token"
count, rounds = int(count), int(rounds)
u = urlparse(url)
H = {"authorization": f"Bearer {key}", "content-type": "application/json",
     "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}


def ask(c, name):
    msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "request_resource", "arguments": {"service": service, "name": name}}}
    c.request("POST", "/mcp", body=json.dumps(msg), headers=H)
    r = c.getresponse()
    body = r.read()
    res = json.loads(body)["result"] if r.status == 200 else {}
    if r.status != 200 or res.get("isError"):
        raise RuntimeError(f"HTTP {r.status}: {body[:300]!r}")
    return res["structuredContent"]["state"]


for rnd in range(1, rounds + 1):
    conns = []
    for _ in range(count):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(c)
    ms = [None] * count
    states = [None] * count
    barrier = threading.Barrier(count)

    def go(i):
        barrier.wait()
        t0 = time.perf_counter()
        states[i] = ask(conns[i], f"{prefix}-{rnd}-{i + 1}")
        ms[i] = (time.perf_counter() - t0) * 1000

    ts = [threading.Thread(target=go, args=(i,)) for i in range(count)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    [c.close() for c in conns]
    v = sorted(ms)
    print(json.dumps({"round": rnd, "count": count, "median_ms": round(statistics.median(v), 1),
                      "p90_ms": round(v[int(0.9 * (count - 1))], 1), "max_ms": round(v[-1], 1),
                      "states": sorted(set(states))}))
    time.sleep(0.5)
