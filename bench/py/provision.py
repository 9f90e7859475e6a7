#!/usr/bin/env python3
"""Provisioning through Asgard over MCP, timed (bench/provisioning.sh).

    provision.py URL KEY SERVICE COUNT PREFIX WORKDIR [SPEC_JSON]

Sends COUNT `request_resource` calls at once (one thread and one connection
each; names PREFIX-1..COUNT), timing how long each call takes to answer, then
polls `get_request` every 50 ms until every request is terminal (fulfilled or
failed). Meanwhile a sampler measures each run's work dir under WORKDIR every
50 ms (allocated bytes, symlinks not followed) and keeps the largest.
Prints one JSON line.
"""
import http.client, json, os, socket, statistics, sys, threading, time
from urllib.parse import urlparse

url, key, service, count, prefix, workdir = sys.argv[1:7]
count = int(count)
spec = json.loads(sys.argv[7]) if len(sys.argv) > 7 else {}
u = urlparse(url)
H = {"authorization": f"Bearer {key}", "content-type": "application/json",
     "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}


def conn():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def call(c, name, args):
    msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}}
    c.request("POST", "/mcp", body=json.dumps(msg), headers=H)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"{name}: HTTP {r.status}: {body[:300]!r}")
    res = json.loads(body)["result"]
    if res.get("isError"):
        raise RuntimeError(f"{name}: {res.get('structuredContent') or res}")
    return res["structuredContent"]


def tree_bytes(d):
    tot = 0
    for root, dirs, files in os.walk(d, followlinks=False):
        for f in files + dirs:
            try:
                tot += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return tot


peak = {}
stop = threading.Event()


def sampler():
    while not stop.is_set():
        try:
            for e in os.listdir(workdir):
                b = tree_bytes(os.path.join(workdir, e))
                peak[e] = max(peak.get(e, 0), b)
        except OSError:
            pass
        time.sleep(0.05)


threading.Thread(target=sampler, daemon=True).start()

results = [None] * count
barrier = threading.Barrier(count)


def ask(i):
    c = conn()
    barrier.wait()
    t0 = time.perf_counter()
    r = call(c, "request_resource", {"service": service, "name": f"{prefix}-{i + 1}", "spec": spec})
    t1 = time.perf_counter()
    results[i] = {"t0": t0, "answer_ms": (t1 - t0) * 1000, "request_id": r["request_id"], "state": r["state"]}
    c.close()


ts = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
[t.start() for t in ts]
[t.join() for t in ts]
start = min(r["t0"] for r in results)

c = conn()
pending = {r["request_id"]: r for r in results}
while pending:
    for rid in list(pending):
        g = call(c, "get_request", {"request_id": rid})
        if g["state"] in ("fulfilled", "failed"):
            r = pending.pop(rid)
            r["done_s"] = time.perf_counter() - r["t0"]
            r["final"] = g["state"]
            r["failure_reason"] = g.get("failure_reason")
    if pending:
        time.sleep(0.05)
end = time.perf_counter()
time.sleep(0.3)
stop.set()
left = sorted(os.listdir(workdir)) if os.path.isdir(workdir) else []
# Split each request's time: Terraform (the runner's own duration_ms, from the
# audit row `resource.fulfilled`) vs the rest (queueing, claim, prepare, record, poll).
admin = os.environ.get("BENCH_ADMIN_TOKEN")
tf_ms = {}
if admin:
    ac = conn()
    ac.request("GET", "/api/audit?action=resource.fulfilled&limit=500", headers={"authorization": f"Bearer {admin}"})
    for e in json.loads(ac.getresponse().read()).get("events", []):
        if isinstance(e.get("data"), dict) and "duration_ms" in e["data"]:
            tf_ms[e.get("target")] = e["data"]["duration_ms"]
ans = sorted(r["answer_ms"] for r in results)
done = sorted(r["done_s"] for r in results)
out = {
    "service": service, "count": count,
    "answer_ms_median": round(statistics.median(ans), 1), "answer_ms_max": round(ans[-1], 1),
    "to_fulfilled_s_median": round(statistics.median(done), 2), "to_fulfilled_s_max": round(done[-1], 2),
    "wall_s": round(end - start, 2),
    "runner_s_median": round(statistics.median(tf_ms[r["request_id"]] for r in results) / 1000, 2)
    if results and all(r["request_id"] in tf_ms for r in results) else None,
    "states": {s: sum(1 for r in results if r["final"] == s) for s in {r["final"] for r in results}},
    "failures": [r["failure_reason"] for r in results if r["final"] != "fulfilled"][:3],
    "initial_states": sorted({r["state"] for r in results}),
    "workdir_peak_mb": round(max(peak.values(), default=0) / 1e6, 2),
    "workdirs_seen": len(peak),
    "left_after": left,
}
print(json.dumps(out))
