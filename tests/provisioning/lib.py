"""Helpers for the provisioning suites (Python 3.11 stdlib only).

Processes: every process the suites start goes through `Procs.start`, in its own session (so a replica
and its Terraform children form one process group that `kill9` can take down together, like a crashed
container), and `Procs.stop_all` stops exactly those groups at exit.

Results: `R.ok/bad/skip/note` print one line each; `R.timing` records wall times of fulfilled runs;
`R.summary()` prints the timing table and the closing `N passed, M failed` line.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

TERMINAL = ("fulfilled", "failed", "rejected", "planned")


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- results


@dataclass
class Timing:
    suite: str
    what: str
    wall_s: float
    run_s: float | None
    note: str = ""


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures: list[str] = []
        self.timings: list[Timing] = []
        self.latencies: list[tuple[str, float]] = []
        self.suite = "-"
        self.lock = threading.Lock()

    def ok(self, name: str, detail: str = "") -> bool:
        with self.lock:
            self.passed += 1
        log(f"PASS [{self.suite}] {name}" + (f" ({detail})" if detail else ""))
        return True

    def bad(self, name: str, detail: str = "") -> bool:
        with self.lock:
            self.failed += 1
            self.failures.append(f"[{self.suite}] {name}")
        log(f"FAIL [{self.suite}] {name}" + (f": {detail}" if detail else ""))
        return False

    def check(self, cond: Any, name: str, detail: str = "", fail_detail: str | None = None) -> bool:
        if cond:
            return self.ok(name, detail)
        return self.bad(name, fail_detail if fail_detail is not None else detail)

    def skip(self, name: str, why: str) -> None:
        # Under CI a check that did not run is a failure: a skip must never pass CI.
        if os.environ.get("CI", "") not in ("", "0"):
            self.bad(name, f"skipped under CI: {why}")
            return
        with self.lock:
            self.skipped += 1
        log(f"SKIP [{self.suite}] {name}: {why}")

    def note(self, msg: str) -> None:
        log(f"  note [{self.suite}]: {msg}")

    def timing(self, what: str, wall_s: float, run_s: float | None, note: str = "") -> None:
        with self.lock:
            self.timings.append(Timing(self.suite, what, wall_s, run_s, note))
        log(f"  TIME [{self.suite}] {what}: wall {wall_s:.1f}s"
            + (f", terraform run {run_s:.1f}s" if run_s is not None else "") + (f" ({note})" if note else ""))

    def latency(self, what: str, ms: float) -> None:
        with self.lock:
            self.latencies.append((what, ms))

    def summary(self) -> int:
        log("")
        if self.timings:
            log("Wall times of fulfilled runs (wall = queued -> fulfilled seen by polling get_request; "
                "terraform run = the request's started_at -> finished_at):")
            log(f"  {'suite':<12} {'what':<58} {'wall s':>7} {'run s':>7}  note")
            for t in self.timings:
                run = f"{t.run_s:7.1f}" if t.run_s is not None else "      -"
                log(f"  {t.suite:<12} {t.what:<58} {t.wall_s:7.1f} {run}  {t.note}")
        if self.latencies:
            ms = sorted(m for _, m in self.latencies)
            p50 = ms[len(ms) // 2]
            log(f"request_resource answer time over MCP: n={len(ms)} median {p50:.0f} ms, max {ms[-1]:.0f} ms")
        if self.failures:
            log("failed: " + "; ".join(self.failures))
        log(f"{self.passed} passed, {self.failed} failed" + (f" ({self.skipped} skipped)" if self.skipped else ""))
        return 0 if self.failed == 0 else 1


R = Results()


# ---------------------------------------------------------------- processes


class Procs:
    """Processes started by the suites, each the leader of its own process group."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], *, env: dict[str, str], cwd: str, out: str, err: str) -> subprocess.Popen:
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=open(out, "ab"), stderr=open(err, "ab"), start_new_session=True)
        self.procs.append(p)
        return p

    @staticmethod
    def _signal_group(p: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(p.pid, sig)  # the group we created for p (pgid == p.pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass

    def stop(self, p: subprocess.Popen, grace: float = 10.0) -> int | None:
        if p.poll() is None:
            self._signal_group(p, signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal_group(p, signal.SIGKILL)
                p.wait(5)
        # Whatever the group leader left behind (e.g. a Terraform child) goes too.
        self._signal_group(p, signal.SIGKILL)
        return p.returncode

    def kill9(self, p: subprocess.Popen) -> None:
        self._signal_group(p, signal.SIGKILL)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for p in reversed(self.procs):
            try:
                self.stop(p, grace=5.0)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


PROCS = Procs()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def children_named(pid: int, name: str) -> list[int]:
    """PIDs of live descendants of `pid` whose comm is `name` (via /proc)."""
    parent: dict[int, int] = {}
    comm: dict[int, str] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            c = st[st.index("(") + 1: st.rindex(")")]
            rest = st[st.rindex(")") + 2:].split()
            if rest[0] == "Z":
                continue
            parent[int(d)] = int(rest[1])
            comm[int(d)] = c
        except (OSError, ValueError, IndexError):
            continue
    out = []
    for p, c in comm.items():
        if c != name:
            continue
        q = parent.get(p)
        while q and q != 1:
            if q == pid:
                out.append(p)
                break
            q = parent.get(q)
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- HTTP


def http(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30.0,
         headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
    """(status, parsed JSON or None, raw text). Never raises for HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    h = {"accept": "application/json"}
    if body is not None:
        h["content-type"] = "application/json"
    if token:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode(errors="replace")
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read().decode(errors="replace")
        status = e.code
    except (urllib.error.URLError, OSError) as e:
        return 0, None, f"connection failed: {e}"
    try:
        parsed = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        parsed = None
    return status, parsed, raw


def ts(s: str | None) -> float | None:
    """RFC 3339 (nanoseconds allowed) -> epoch seconds."""
    if not s:
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        return None
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    frac = float("0." + m.group(2)) if m.group(2) else 0.0
    return base.timestamp() + frac


def run_span(req: dict) -> float | None:
    a, b = ts(req.get("started_at")), ts(req.get("finished_at"))
    return None if a is None or b is None else b - a


# ---------------------------------------------------------------- MCP


@dataclass
class ToolResult:
    is_error: bool
    data: dict
    raw: str
    ms: float
    status: int

    @property
    def code(self) -> str | None:
        return self.data.get("code") if self.is_error else None

    def brief(self) -> str:
        return json.dumps(self.data)[:600]


class Mcp:
    """Stateless MCP over HTTP (JSON responses) with a Bearer credential. Every raw response except
    get_secret's is kept in `transcript` for the leak scan."""

    transcript: list[tuple[str, str]] = []  # shared: (tool, raw response)
    _lock = threading.Lock()

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key
        self.ids = 0

    def call(self, tool: str, args: dict, timeout: float = 60.0) -> ToolResult:
        with self._lock:
            self.ids += 1
            rid = self.ids
        body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool, "arguments": args}}
        t0 = time.monotonic()
        status, parsed, raw = http("POST", f"{self.base}/mcp", body, token=self.key, timeout=timeout,
                                   headers={"accept": "application/json, text/event-stream",
                                            "mcp-protocol-version": "2025-11-25"})
        ms = (time.monotonic() - t0) * 1000
        if tool != "get_secret":
            with self._lock:
                Mcp.transcript.append((tool, raw))
        if parsed is None and "data:" in raw:  # an SSE-framed answer: the last JSON data line
            for line in raw.splitlines():
                if line.startswith("data:"):
                    try:
                        parsed = json.loads(line[5:].strip())
                    except json.JSONDecodeError:
                        pass
        if status != 200 or not isinstance(parsed, dict) or "result" not in parsed:
            return ToolResult(True, {"code": f"http_{status}", "message": raw[:500]}, raw, ms, status)
        res = parsed["result"]
        data = res.get("structuredContent")
        if data is None:
            try:
                data = json.loads(res["content"][0]["text"])
            except (KeyError, IndexError, json.JSONDecodeError, TypeError):
                data = {}
        return ToolResult(bool(res.get("isError")), data, raw, ms, status)

    def request(self, service: str, name: str, spec: dict | None = None, **extra: Any) -> ToolResult:
        args: dict[str, Any] = {"service": service, "name": name}
        if spec is not None:
            args["spec"] = spec
        args.update(extra)
        r = self.call("request_resource", args)
        if not r.is_error:
            R.latency(f"{service}/{name}", r.ms)
        return r

    def get_request(self, rid: str) -> ToolResult:
        return self.call("get_request", {"request_id": rid})

    def wait(self, rid: str, timeout: float, poll: float = 0.5, until: tuple[str, ...] = TERMINAL) -> dict:
        end = time.monotonic() + timeout
        last: dict = {}
        while True:
            r = self.get_request(rid)
            if not r.is_error:
                last = r.data
                if last.get("state") in until:
                    return last
            if time.monotonic() > end:
                last = dict(last)
                last.setdefault("state", "?")
                last["_timed_out"] = True
                return last
            time.sleep(poll)

    def wait_many(self, rids: list[str], timeout: float, poll: float = 1.0) -> dict[str, tuple[dict, float]]:
        """Poll several requests; {rid: (final record, monotonic time it was first seen terminal)}."""
        end = time.monotonic() + timeout
        done: dict[str, tuple[dict, float]] = {}
        while len(done) < len(rids):
            for rid in rids:
                if rid in done:
                    continue
                r = self.get_request(rid)
                if not r.is_error and r.data.get("state") in TERMINAL:
                    done[rid] = (r.data, time.monotonic())
            if len(done) == len(rids):
                break
            if time.monotonic() > end:
                for rid in rids:
                    if rid not in done:
                        r = self.get_request(rid)
                        d = dict(r.data)
                        d["_timed_out"] = True
                        done[rid] = (d, time.monotonic())
                break
            time.sleep(poll)
        return done

    def secret(self, ref: str) -> ToolResult:
        return self.call("get_secret", {"secret_ref": ref})


# ---------------------------------------------------------------- Asgard


class Asgard:
    """One `asgard serve` process with its own env, config and logs."""

    def __init__(self, name: str, bin_path: str, tmp: Path, logs: Path, db_url: str, *,
                 secret_key: str, admin_password: str, armed: bool = True, tf_allowed: str | None = None,
                 tf_env: dict[str, str] | None = None, config_extra: str = "", modules_dir: str = "",
                 work_dir: Path | None = None) -> None:
        self.name = name
        self.bin = bin_path
        self.dir = tmp / f"asgard-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        self.db_url = db_url
        self.secret_key = secret_key
        self.admin_password = admin_password
        self.armed = armed
        self.work_dir = work_dir or (self.dir / "tf")
        self.out = str(logs / f"asgard-{name}.out.log")
        self.err = str(logs / f"asgard-{name}.err.log")
        cfg = self.dir / "asgard.yaml"
        cfg.write_text("groups:\n- { key: platform, display_name: Platform, cost_center: CC-100 }\n" + config_extra)
        self.config = str(cfg)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ASGARD_", "AWS_", "TF_", "AUTH0_")) and k not in ("RUST_LOG",)}
        env.update({
            "ASGARD_DATABASE_URL": db_url,
            "ASGARD_SECRET_KEY": secret_key,
            "ASGARD_ADMIN_PASSWORD": admin_password,
        })
        if armed:
            env["ASGARD_TF_MODULES_DIR"] = modules_dir
            env["ASGARD_TF_WORK_DIR"] = str(self.work_dir)
        if tf_allowed is not None:
            env["ASGARD_TF_ALLOWED"] = tf_allowed
        env.update(tf_env or {})
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.base = ""
        self._admin: str | None = None
        self._minter: str | None = None

    def start(self, timeout: float = 60.0) -> bool:
        for _ in range(3):
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            self.proc = PROCS.start([self.bin, "serve", "--bind", f"127.0.0.1:{self.port}", "--config", self.config],
                                    env=self.env, cwd=str(self.dir), out=self.out, err=self.err)
            end = time.time() + timeout
            while time.time() < end:
                st, _, body = http("GET", f"{self.base}/healthz", timeout=2)
                if st == 200 and body.strip() == "ok":
                    return True
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
            PROCS.stop(self.proc)
            if "in use" not in self.log_text()[-2000:]:
                break
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        return PROCS.stop(self.proc) if self.proc else None

    def kill9(self) -> None:
        if self.proc:
            PROCS.kill9(self.proc)

    def log_text(self) -> str:
        out = ""
        for p in (self.out, self.err):
            try:
                out += Path(p).read_text(errors="replace")
            except OSError:
                pass
        return out

    def tail(self, n: int = 30) -> str:
        lines = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", self.log_text()).splitlines()
        return "\n".join(lines[-n:])

    # ---- REST as the admin
    def admin(self) -> str:
        if self._admin is None:
            st, body, raw = http("POST", f"{self.base}/api/auth/login",
                                 {"username": "admin", "password": self.admin_password})
            if st != 200 or not body or "token" not in body:
                raise RuntimeError(f"{self.name}: admin login -> {st}: {raw[:300]}")
            self._admin = body["token"]
        return self._admin

    def rest(self, method: str, path: str, body: Any = None, token: str | None = "admin") -> tuple[int, Any, str]:
        tok = self.admin() if token == "admin" else token
        return http(method, f"{self.base}{path}", body, token=tok)

    def register(self, name: str, classification: str = "poc", budget_usd: float | None = None) -> str:
        body: dict[str, Any] = {"name": name, "owner_email": "owner@corp.example",
                                "manager_email": "mgr@corp.example", "group": "platform",
                                "classification": classification}
        if budget_usd is not None:
            body["budget_usd"] = budget_usd
        st, b, raw = self.rest("POST", "/api/projects", body)
        if st != 201 or not b:
            raise RuntimeError(f"{self.name}: register {name} -> {st}: {raw[:300]}")
        return b["project_id"]

    def minter(self) -> str:
        """A second admin, `keymaker`, who mints the agents' keys. Separation of duties refuses the approval of
        a key's request to the key's minter, so the suite's approvals (as `admin`) stay independent."""
        if self._minter is None:
            pw = self.admin_password + "-keys"
            st, _, raw = self.rest("POST", "/api/users", {"username": "keymaker", "email": "keymaker@corp.example",
                                                          "password": pw, "role": "admin"})
            if st not in (201, 409):  # 409: another replica on this database made it already
                raise RuntimeError(f"{self.name}: create keymaker -> {st}: {raw[:300]}")
            st, body, raw = http("POST", f"{self.base}/api/auth/login", {"username": "keymaker", "password": pw})
            if st != 200 or not body or "token" not in body:
                raise RuntimeError(f"{self.name}: keymaker login -> {st}: {raw[:300]}")
            self._minter = body["token"]
        return self._minter

    def key(self, pid: str) -> str:
        st, b, raw = self.rest("POST", f"/api/projects/{pid}/keys", {"name": "agent"}, token=self.minter())
        if st not in (200, 201) or not b:
            raise RuntimeError(f"{self.name}: mint key for {pid} -> {st}: {raw[:300]}")
        return b["key"]

    def mcp(self, key: str) -> Mcp:
        return Mcp(self.base, key)

    def approve(self, rid: str, reason: str = "approved by the provisioning test") -> tuple[int, Any, str]:
        return self.rest("POST", f"/api/requests/{rid}/approve", {"reason": reason})

    def run_log(self, rid: str) -> str:
        st, b, raw = self.rest("GET", f"/api/requests/{rid}/log")
        return (b or {}).get("log") or "" if st == 200 else ""

    def all_requests(self) -> list[dict]:
        st, b, _ = self.rest("GET", "/api/requests?limit=500")
        return (b or {}).get("requests", []) if st == 200 else []

    def audit(self) -> list[str]:
        """Every audit event as raw JSON text (all pages)."""
        out, cursor = [], None
        for _ in range(200):
            q = "/api/audit?limit=500" + (f"&cursor={cursor}" if cursor else "")
            st, b, raw = self.rest("GET", q)
            if st != 200 or not b:
                break
            out.extend(json.dumps(e) for e in b.get("events", []))
            cursor = b.get("next_cursor")
            if not cursor:
                break
        return out


# ---------------------------------------------------------------- databases


def db_query(db_url: str, sql: str) -> tuple[bool, str]:
    """Run SQL with the engine's own CLI (sqlite3 / psql); (ok, output)."""
    if db_url.startswith("sqlite:"):
        path = re.sub(r"^sqlite:(//)?", "", db_url).split("?")[0]
        cmd = ["sqlite3", "-batch", "-noheader", path, sql]
    else:
        cmd = ["psql", db_url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode == 0, (p.stdout if p.returncode == 0 else p.stderr).strip()


def sqlite_file(db_url: str) -> str:
    return re.sub(r"^sqlite:(//)?", "", db_url).split("?")[0]


def pg_admin_url(url: str) -> str:
    return re.sub(r"/[^/?]*(\?.*)?$", r"/postgres\1", url)


def pg_create_db(url: str, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    ok, out = db_query(pg_admin_url(url), f"CREATE DATABASE {name}")
    if not ok:
        raise RuntimeError(f"CREATE DATABASE {name}: {out}")
    return re.sub(r"/[^/?]*(\?.*)?$", rf"/{name}\1", url)


def pg_drop_db(url: str) -> None:
    name = re.search(r"/([^/?]*)(\?.*)?$", url).group(1)  # type: ignore[union-attr]
    db_query(pg_admin_url(url), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---------------------------------------------------------------- AWS CLI against moto


class Aws:
    def __init__(self, endpoint: str, env: dict[str, str]) -> None:
        self.endpoint = endpoint
        self.env = env

    def __call__(self, *args: str) -> tuple[int, Any, str]:
        p = subprocess.run(["aws", "--endpoint-url", self.endpoint, "--output", "json", *args],
                           capture_output=True, text=True, env=self.env, timeout=120)
        try:
            parsed = json.loads(p.stdout) if p.stdout.strip() else None
        except json.JSONDecodeError:
            parsed = None
        return p.returncode, parsed, (p.stderr or p.stdout).strip()


# ---------------------------------------------------------------- work dir


def tree_report(root: Path) -> tuple[list[str], list[str]]:
    """(every path under root, the terraform.tfstate* files among them)."""
    entries, states = [], []
    if not root.exists():
        return entries, states
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            entries.append(os.path.relpath(p, root))
            if n.startswith("terraform.tfstate"):
                states.append(os.path.relpath(p, root))
    return entries, states


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, n)).st_size
            except OSError:
                pass
    return total


class DiskSampler:
    """Samples the size of a work dir in the background; `peak` is the largest seen (bytes)."""

    def __init__(self, root: Path, every: float = 0.5) -> None:
        self.root = root
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for d in self.root.iterdir() if self.root.exists() else []:
                    self.peak = max(self.peak, tree_bytes(d))
            except OSError:
                pass
            self._stop.wait(self.every)

    def __enter__(self) -> "DiskSampler":
        self._t.start()
        return self

    def __exit__(self, *a: Any) -> None:
        self._stop.set()
        self._t.join(5)


def which(tool: str) -> bool:
    return shutil.which(tool) is not None


def fmt_state(d: dict) -> str:
    return f"state={d.get('state')} failure_reason={d.get('failure_reason')!r}" + (
        " (timed out waiting)" if d.get("_timed_out") else "")


def approve_gated_destroy(a: "Asgard", dp: ToolResult, what: str) -> bool:
    """A destroy of a resource whose create needed an admin's approval waits for an admin too (reason
    `approval_gated`; the resource stays as it is meanwhile). Check the answer says so, then approve it as
    `admin`, who is neither the requesting key nor its minter (`keymaker`). True when the destroy is queued."""
    d = dp.data if not dp.is_error else {}
    rid = d.get("request_id", "")
    ap = d.get("approval") or {}
    codes = [x.get("code") for x in ap.get("reasons") or []]
    if not R.check(not dp.is_error and d.get("kind") == "destroy" and d.get("state") == "pending_approval"
                   and d.get("resource_state") not in ("destroying", "destroyed")
                   and "approval_gated" in codes and ap.get("approver_role") == "admin"
                   and ap.get("route") == f"/api/requests/{rid}/approve",
                   f"{what}: its destroy waits for an admin (approval_gated), the resource untouched",
                   fail_detail=dp.brief()):
        return False
    st, b, raw = a.approve(rid, "destroy approved by the provisioning test")
    return R.check(st == 200 and (b or {}).get("state") in ("queued", "running", "fulfilled"),
                   f"{what}: the admin approves the destroy (queued)", fail_detail=f"{st} {raw[:300]}")


def exit_handlers() -> None:
    def handler(signum: int, _frame: Any) -> None:
        log(f"interrupted by signal {signum}; stopping the processes this suite started")
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGHUP, handler)
