#!/usr/bin/env python3
"""Cold start: wall time from exec of the server to `/readyz` answering ready.

    coldstart.py fresh|existing N DIR -- CMD...   (CMD may contain {port} and {db})

fresh: every boot gets a new empty directory (new SQLite file, key file and
bootstrap admin created). existing: boot once to create the DB, stop it, then
time N boots on that file. The poll is a raw socket GET every 1 ms. Each boot
is stopped with SIGTERM and waited for before the next. Prints one JSON line.
"""
import json, os, signal, socket, statistics, subprocess, sys, time

mode, n, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cmd = sys.argv[sys.argv.index("--") + 1:]


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def ready(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    except OSError:
        return False
    try:
        s.sendall(f"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        buf = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            buf += c
        return buf.startswith(b"HTTP/1.1 200") and buf.rstrip().endswith(b"ready")
    except OSError:
        return False
    finally:
        s.close()


def boot(d):
    os.makedirs(d, exist_ok=True)
    port = free_port()
    argv = [a.replace("{port}", str(port)).replace("{dir}", d) for a in cmd]
    log = open(os.path.join(d, "boot.log"), "ab")
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=log, stderr=log)
    while not ready(port):
        if p.poll() is not None:
            raise SystemExit(f"server exited with {p.returncode}; see {d}/boot.log")
        if time.perf_counter() - t0 > 30:
            p.kill(); raise SystemExit("not ready after 30 s")
        time.sleep(0.001)
    dt = (time.perf_counter() - t0) * 1000
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()
    return dt


times = []
if mode == "existing":
    d = os.path.join(base, "existing")
    boot(d)
    for _ in range(n):
        times.append(boot(d))
else:
    for i in range(n):
        times.append(boot(os.path.join(base, f"fresh{i}")))
times.sort()
print(json.dumps({"mode": mode, "n": n, "median_ms": round(statistics.median(times), 1),
                  "min_ms": round(times[0], 1), "max_ms": round(times[-1], 1)}))
