#!/usr/bin/env python3
"""MCP helpers for bench/mcp.sh (JSON-RPC over POST /mcp, stateless JSON mode).

    mcp_bench.py check   URL KEY             initialize + tools/call whoami once, print what came back
    mcp_bench.py flood   URL KEY N CONC PID  N `initialize` calls over CONC keep-alive connections;
                                             RSS of PID before, right after, and after a 5 s pause
    mcp_bench.py streams URL KEY N PID HOLD  open N `GET /mcp` (accept: text/event-stream), record
                                             the answers, hold HOLD s, RSS while open, close, RSS after
Prints one JSON line.
"""
import http.client, json, socket, sys, threading, time
from urllib.parse import urlparse

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "0"}}}
CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}}


def headers(key):
    return {"authorization": f"Bearer {key}", "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25"}


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)


def conn(url):
    u = urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def post(c, key, msg):
    c.request("POST", "/mcp", body=json.dumps(msg), headers=headers(key))
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def check(url, key):
    c = conn(url)
    s1, h1, b1 = post(c, key, INIT)
    s2, h2, b2 = post(c, key, CALL)
    j2 = json.loads(b2)
    ok = s1 == 200 and b'"name":"asgard"' in b1 and s2 == 200 and not j2.get("result", {}).get("isError", True)
    print(json.dumps({"ok": ok, "init_status": s1, "init_content_type": h1.get("content-type"),
                      "session_header": h1.get("mcp-session-id"), "init_bytes": len(b1),
                      "call_status": s2, "call_bytes": len(b2),
                      "call_result": j2.get("result", {}).get("structuredContent") or j2}))
    return 0 if ok else 1


def flood(url, key, n, conc, pid):
    before = rss(pid)
    per = [n // conc + (1 if i < n % conc else 0) for i in range(conc)]
    bad, lock = [0], threading.Lock()

    def worker(k):
        c = conn(url)
        for _ in range(k):
            s, _, b = post(c, key, INIT)
            if s != 200 or b'"name":"asgard"' not in b:
                with lock:
                    bad[0] += 1
        c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in per]
    [t.start() for t in ts]
    [t.join() for t in ts]
    dt = time.perf_counter() - t0
    after = rss(pid)
    time.sleep(5)
    print(json.dumps({"calls": n, "failed": bad[0], "seconds": round(dt, 2),
                      "calls_per_s": round(n / dt), "rss_before_mb": before,
                      "rss_after_mb": after, "rss_after_5s_mb": rss(pid)}))


def streams(url, key, n, pid, hold):
    u = urlparse(url)
    before = rss(pid)
    req = (f"GET /mcp HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nAuthorization: Bearer {key}\r\n"
           "Accept: text/event-stream\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n").encode()
    socks, statuses, first = [], {}, None
    for _ in range(n):
        s = socket.create_connection((u.hostname, u.port))
        s.sendall(req)
        s.settimeout(2)
        try:
            head = s.recv(65536)
        except socket.timeout:
            head = b""
        st = head.split(b"\r\n", 1)[0].decode(errors="replace") or "(no answer in 2 s)"
        statuses[st] = statuses.get(st, 0) + 1
        if first is None:
            first = head.decode(errors="replace")[:600]
        socks.append(s)
    time.sleep(hold)
    # Which sockets did the server close meanwhile?
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(65536) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    during = rss(pid)
    for s in socks:
        s.close()
    time.sleep(5)
    print(json.dumps({"streams": n, "answers": statuses, "closed_by_server_within_hold": closed,
                      "first_answer": first, "rss_before_mb": before, "rss_open_mb": during,
                      "rss_after_close_5s_mb": rss(pid)}))


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "check":
        sys.exit(check(a[2], a[3]))
    elif a[1] == "flood":
        flood(a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
    elif a[1] == "streams":
        streams(a[2], a[3], int(a[4]), int(a[5]), float(a[6]))
