#!/usr/bin/env python3
"""Provisioning test suite against real parts: the asgard binary, Terraform 1.11 with hashicorp/aws from
the filesystem mirror, moto_server, SQLite and (when ASGARD_TEST_PG_URL is set) PostgreSQL.

    tests/provisioning/run.sh target/debug/asgard

Suites (PROV_ONLY=runner,bad,fixes,security,grants,e2e,selfdeploy,leak,faults picks some; default all):
  runner      provider-free demo-token: apply, outputs, secret_ref + get_secret, idempotent re-request,
              update, a no-op second apply, state in the DB and none on disk, wiped work dir, destroy
              (SQLite, and Postgres when ASGARD_TEST_PG_URL is set)
  bad         bad input and refusals (SQLite): names, services, spec keys, locked keys, types, allowlist,
              frozen project, budget (also concurrent), self-approval, a module that fails to apply,
              unarmed plan-only records, boot refused when armed without terraform/modules
  fixes       regressions from review (fixes.py): the tier policy lets a light-operational demo-token run with
              no person; rejected updates (on an Asgard whose light-operational ceiling is 0), secrets of
              same-named resources, decommission while a run is in flight
  security    attack regressions (security.py): a pending update never applied through kill/unkill (ecs in
              moto), a pending downscale keeps the budget; on Postgres, an unarmed replica beside an armed one
  grants      ecs-service grants confined to the project (grants.py): another project's secret, a wildcard,
              another account and Asgard's boot secret refused on the exact field; the project's own secret and
              KMS key pass, an operator-allowlisted key passes and is shown to approvers and audited
  e2e         over MCP with a project key against moto: ecr, secretsmanager, s3, rds + ecs (admin approval),
              checked with the aws CLI, then deprovisioned (rds and ecs destroys approved by the admin, as their
              creates were) and checked gone
  selfdeploy  the runbook's self-deploy appendix at light-operational (ECR and the secret with no person, RDS and ECS approved), task-role grants in moto
  leak        the secret values in none of: DB dump + raw DB bytes, logs, audit, run logs, MCP answers
              other than get_secret, REST records, the Terraform work dirs
  faults      Postgres only: two replicas, kill -9 of the replica applying, failover after lease_ttl_secs;
              two requests for one resource run one after the other; 10 concurrent requests complete;
              budget reservation under concurrency across replicas
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lib import (  # noqa: E402
    PROCS, R, Asgard, Aws, DiskSampler, Mcp, approve_gated_destroy, children_named, cmdline, db_query, exit_handlers, fmt_state,
    free_port, http, log, pg_create_db, pg_drop_db, run_span, sqlite_file, tree_report, ts, wait_port, which,
)

from fixes import suite_fixes  # noqa: E402
from security import suite_security, suite_unarmed_replica  # noqa: E402
from grants import CONFIG as GRANTS_CONFIG, suite_grants  # noqa: E402

HEX = re.compile(r"^[0-9a-f]+$")


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
ACCOUNT = "123456789012"


class Ctx:
    def __init__(self, bin_path: str) -> None:
        self.root = Path(__file__).resolve().parents[2]
        self.bin = bin_path
        self.modules = str(self.root / "modules")
        self.tmp = Path(tempfile.mkdtemp(prefix="asgard-prov."))
        self.logs = Path(os.environ.get("PROV_LOG_DIR") or (self.tmp / "logs"))
        self.logs.mkdir(parents=True, exist_ok=True)
        self.secret_key = secrets.token_hex(32)
        self.admin_pw = "prov-admin-" + secrets.token_hex(8)
        self.secrets: dict[str, str] = {}  # label -> value, for the leak scan
        self.moto_port = 0
        self.endpoint = ""
        self.tfrc = self.tmp / "terraformrc"
        self.aws: Aws | None = None
        self.aws_env: dict[str, str] = {}
        self.vpc: tuple[str, str, str] | None = None
        self.pg_url = os.environ.get("ASGARD_TEST_PG_URL", "").strip()
        only = os.environ.get("PROV_ONLY", "").strip()
        self.only = {s.strip() for s in only.split(",") if s.strip()} if only else None
        self.pg_dbs: list[str] = []

    def want(self, suite: str) -> bool:
        return self.only is None or suite in self.only

    def add_secret(self, label: str, value: Any) -> None:
        if isinstance(value, str) and len(value) >= 8:
            self.secrets[label] = value

    def tf_env(self) -> dict[str, str]:
        return {"TF_CLI_CONFIG_FILE": str(self.tfrc), "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1"}

    def asgard(self, name: str, db_url: str, **kw: Any) -> Asgard:
        kw.setdefault("tf_allowed", f"aws:{ACCOUNT}")
        kw.setdefault("tf_env", self.tf_env())
        return Asgard(name, self.bin, self.tmp, self.logs, db_url, secret_key=self.secret_key,
                      admin_password=self.admin_pw, modules_dir=self.modules, **kw)

    def sqlite_url(self, name: str) -> str:
        return f"sqlite://{self.tmp}/{name}/asgard.db"


# ---------------------------------------------------------------- environment


def start_moto(ctx: Ctx) -> bool:
    ctx.tfrc.write_text(
        "# written by tests/provisioning: hashicorp/aws only from the unpacked mirror (no downloads)\n"
        "provider_installation {\n  filesystem_mirror {\n    path    = \"/opt/tf-plugins\"\n"
        "    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ASGARD_"))}
    env.update({"MOTO_ECS_SERVICE_RUNNING": "1", "MOTO_ACM_VALIDATION_WAIT": "0"})
    for _ in range(3):
        port = free_port()
        p = PROCS.start(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env, cwd=str(ctx.tmp),
                        out=str(ctx.logs / "moto.log"), err=str(ctx.logs / "moto.log"))
        if wait_port(port, 30, p):
            ctx.moto_port = port
            ctx.endpoint = f"http://127.0.0.1:{port}"
            ctx.aws_env = dict(os.environ)
            ctx.aws_env.update(ctx.tf_env())
            ctx.aws_env.pop("AWS_CA_BUNDLE", None)
            ctx.aws = Aws(ctx.endpoint, ctx.aws_env)
            return True
        PROCS.stop(p)
    return False


def vpc(ctx: Ctx) -> tuple[str, str, str]:
    """A VPC with two subnets in two AZs (created once with the aws CLI against moto)."""
    if ctx.vpc:
        return ctx.vpc
    aws = ctx.aws
    assert aws
    _, v, err = aws("ec2", "create-vpc", "--cidr-block", "10.42.0.0/16")
    vpc_id = v["Vpc"]["VpcId"]
    subnets = []
    for i, az in enumerate(("us-east-1a", "us-east-1b")):
        _, s, err = aws("ec2", "create-subnet", "--vpc-id", vpc_id, "--cidr-block", f"10.42.{i}.0/24",
                        "--availability-zone", az)
        subnets.append(s["Subnet"]["SubnetId"])
    ctx.vpc = (vpc_id, subnets[0], subnets[1])
    return ctx.vpc


def boot(ctx: Ctx, a: Asgard) -> bool:
    if a.start():
        return True
    R.bad(f"boot asgard {a.name}", "did not answer /healthz:\n" + a.tail(25))
    return False


def wait_fulfilled(m: Mcp, rid: str, what: str, t0: float, timeout: float, poll: float = 0.5,
                   note: str = "") -> dict:
    d = m.wait(rid, timeout, poll=poll)
    if R.check(d.get("state") == "fulfilled", f"{what} fulfilled", fail_detail=fmt_state(d)):
        R.timing(what, time.monotonic() - t0, run_span(d), note)
    return d


def secret_of(m: Mcp, outputs: dict, name: str) -> str | None:
    ref = (outputs.get(name) or {}).get("secret_ref") if isinstance(outputs.get(name), dict) else None
    if not ref:
        return None
    r = m.secret(ref)
    return None if r.is_error else r.data.get("value")


def work_dir_clean(a: Asgard, what: str) -> None:
    entries, states = tree_report(a.work_dir)
    R.check(not states, f"{what}: no terraform.tfstate under the work dir", fail_detail=f"found {states}")
    R.check(not entries, f"{what}: work dir {a.work_dir.name}/ has no leftovers",
            fail_detail=f"left: {entries[:10]}")


def tf_state_version(a: Asgard, resource_id: str) -> int | None:
    ok, out = db_query(a.db_url, f"SELECT version FROM tf_states WHERE resource_id = '{resource_id}'")
    return int(out) if ok and out.strip().isdigit() else None


def child_env_check(ctx: Ctx, a: Asgard) -> None:
    """SPEC §6.5: the Terraform child gets an explicit environment without Asgard's own secrets."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        for p in children_named(a.proc.pid, "terraform") if a.proc else []:
            try:
                raw = Path(f"/proc/{p}/environ").read_bytes()
            except OSError:
                continue
            env = dict(x.split("=", 1) for x in raw.decode(errors="replace").split("\0") if "=" in x)
            bad = sorted(k for k in env if k.startswith("ASGARD_"))
            vals = [k for k, v in env.items() if ctx.secret_key in v or ctx.admin_pw in v]
            R.check(not bad and not vals and env.get("AWS_ENDPOINT_URL") == ctx.endpoint
                    and "TF_HTTP_PASSWORD" in env,
                    "the Terraform child's environment: provider settings, a backend credential, no ASGARD_*",
                    f"{len(env)} vars: {' '.join(sorted(env))}", f"ASGARD_* {bad}, secret values in {vals}")
            return
        time.sleep(0.3)
    R.skip("the Terraform child's environment", "no terraform child seen within 60 s")


# ---------------------------------------------------------------- 1. runner (demo-token)


def suite_runner(ctx: Ctx, a: Asgard, engine: str) -> None:
    R.suite = f"runner-{engine}"
    pid = a.register(f"Runner {engine}")
    key = a.key(pid)
    m = a.mcp(key)
    name = "tok"

    # -- apply
    t0 = time.monotonic()
    r = m.request("demo-token", name, {"label": "one"})
    if not R.check(not r.is_error and str(r.data.get("request_id", "")).startswith("req-"),
                   "request_resource demo-token answers with a req- id",
                   f"{r.data.get('state')} in {r.ms:.0f} ms", r.brief()):
        return
    rid = r.data["request_id"]
    R.check(r.data.get("state") in ("queued", "running", "fulfilled") and r.data.get("needs_approval") is False,
            "auto-approved at poc (queued, no approval)", fail_detail=r.brief())
    d = wait_fulfilled(m, rid, "demo-token create", t0, 120, poll=0.2)
    if d.get("state") != "fulfilled":
        log(a.run_log(rid)[-3000:])
        return
    resource_id = d["resource_id"]
    out = d.get("outputs") or {}
    ref = f"asgard://secrets/{pid}/demo-token/{name}/token"
    R.check(out.get("label") == "one" and isinstance(out.get("id"), str) and out["id"],
            "outputs: label and id", json.dumps(out))
    R.check(out.get("token") == {"secret_ref": ref}, "sensitive output `token` is a secret_ref",
            json.dumps(out.get("token")))
    s = m.secret(ref)
    token1 = s.data.get("value", "") if not s.is_error else ""
    R.check(len(token1) == 32 and HEX.match(token1), "get_secret returns the 32-hex token",
            fail_detail=s.brief() if s.is_error else f"len {len(token1)}")
    ctx.add_secret("runner token v1", token1)
    id1 = out.get("id")
    g = m.call("get_resource", {"resource": name})
    R.check(not g.is_error and g.data.get("state") == "fulfilled" and token1 not in g.raw
            and g.data.get("outputs", {}).get("token") == {"secret_ref": ref},
            "get_resource: fulfilled, token as secret_ref, value absent", fail_detail=g.brief())
    ls = m.call("list_secrets", {})
    R.check(not ls.is_error and any(x.get("secret_ref") == ref for x in ls.data.get("secrets", []))
            and token1 not in ls.raw, "list_secrets lists the ref without the value", fail_detail=ls.brief())
    work_dir_clean(a, "after create")
    v1 = tf_state_version(a, resource_id)
    R.check(v1 is not None and v1 >= 1, "Terraform state is in the DB (tf_states row, sealed)",
            f"version {v1}", f"no tf_states row for {resource_id}")
    log1 = a.run_log(rid)
    R.check("2 added" in log1 and "== terraform apply ==" in log1, "run log readable (apply: 2 added)",
            fail_detail=log1[-800:])

    # -- idempotent re-request (MCP and REST)
    r2 = m.request("demo-token", name, {"label": "one"})
    R.check(not r2.is_error and r2.data.get("request_id") == rid and r2.data.get("idempotent") is True,
            "same request again is idempotent (same request id)", fail_detail=r2.brief())
    st, b, raw = a.rest("POST", f"/api/projects/{pid}/resources",
                        {"service": "demo-token", "name": name, "spec": {"label": "one"}})
    R.check(st == 200 and (b or {}).get("request_id") == rid,
            "REST re-request (admin session): 200 with the same request id",
            f"{st}", f"{st} {raw[:300]}")

    # -- update with a wiped work dir: state must come from the DB
    shutil.rmtree(a.work_dir, ignore_errors=True)
    t0 = time.monotonic()
    r3 = m.request("demo-token", name, {"label": "two"})
    ok3 = R.check(not r3.is_error and r3.data.get("request_id") != rid and r3.data.get("kind") == "update",
                  "changed spec (label) is an update request", fail_detail=r3.brief())
    if ok3:
        rid3 = r3.data["request_id"]
        d3 = wait_fulfilled(m, rid3, "demo-token update (label)", t0, 120, poll=0.2)
        o3 = d3.get("outputs") or {}
        tok = secret_of(m, o3, "token")
        R.check(o3.get("label") == "two", "update applied: label is now two", json.dumps(o3))
        R.check(tok == token1 and o3.get("id") == id1,
                "state survived the wiped work dir: same token and id after the update",
                fail_detail=f"id {o3.get('id')} vs {id1}, token same: {tok == token1}")
        sv = m.secret((o3.get("token") or {}).get("secret_ref") or ref)
        R.check(not sv.is_error and sv.data.get("version") == 1,
                "an apply that leaves the token unchanged stores no new secret version",
                f"version {sv.data.get('version')}", sv.brief())
        l3 = a.run_log(rid3)
        R.check("0 added, 1 changed, 0 destroyed" in l3, "update run log: 0 added, 1 changed, 0 destroyed",
                fail_detail=l3[-800:])
        work_dir_clean(a, "after update")

    # -- the same inputs written differently (`length: 32.0` is the recorded 32; keys in another order)
    # are the same ask: idempotent, no second run.
    r4 = m.request("demo-token", name, {"length": 32.0, "label": "two"})
    R.check(not r4.is_error and r4.data.get("idempotent") is True and r4.data.get("request_id") == r3.data.get("request_id"),
            "an equal spec (length 32.0 for 32, keys reordered) is idempotent", fail_detail=r4.brief())

    # -- update that replaces the token (length) -> a new secret version
    t0 = time.monotonic()
    r5 = m.request("demo-token", name, {"label": "two", "length": 48})
    if not r5.is_error:
        d5 = wait_fulfilled(m, r5.data["request_id"], "demo-token replace (length 48)", t0, 120, poll=0.2)
        s5 = m.secret(ref)
        tok5 = s5.data.get("value", "")
        R.check(len(tok5) == 48 and tok5 != token1 and (d5.get("outputs") or {}).get("id") != id1,
                "length change regenerates the token under the same secret_ref",
                f"secret version {s5.data.get('version')}", s5.brief())
        R.check(s5.data.get("version") == 2, "a changed token is a new secret version (2)",
                f"version {s5.data.get('version')}")
        ctx.add_secret("runner token v2", tok5)
    else:
        R.bad("length change accepted", r5.brief())

    # -- destroy (work dir wiped first: the destroy needs the state from the DB)
    shutil.rmtree(a.work_dir, ignore_errors=True)
    t0 = time.monotonic()
    dp = m.call("deprovision_resource", {"resource": name})
    if R.check(not dp.is_error and dp.data.get("kind") == "destroy", "deprovision_resource queues a destroy",
               fail_detail=dp.brief()):
        dd = wait_fulfilled(m, dp.data["request_id"], "demo-token destroy", t0, 120, poll=0.2)
        R.check(dd.get("resource_state") == "destroyed", "resource is destroyed", fail_detail=fmt_state(dd))
        ld = a.run_log(dp.data["request_id"])
        R.check("2 destroyed" in ld, "destroy run log: 2 destroyed (state came from the DB)",
                fail_detail=ld[-800:])
        gs = m.secret(ref)
        R.check(gs.is_error and gs.code == "not_found", "get_secret after destroy: not_found",
                fail_detail=gs.brief())
        ls = m.call("list_secrets", {})
        R.check(not ls.is_error and not any(x.get("secret_ref") == ref for x in ls.data.get("secrets", [])),
                "list_secrets no longer lists it", fail_detail=ls.brief())
        ok, n = db_query(a.db_url, f"SELECT COUNT(*) FROM secrets WHERE project_id = '{pid}'")
        R.check(ok and n.strip() == "0", "no secret rows left for the project in the DB", n)
        gr = m.call("get_resource", {"resource": name})
        R.check(not gr.is_error and gr.data.get("state") == "destroyed" and gr.data.get("outputs") == {},
                "record kept as destroyed with no outputs", fail_detail=gr.brief())
        work_dir_clean(a, "after destroy")

    # -- the name can be requested again after destroy: a fresh token
    t0 = time.monotonic()
    r6 = m.request("demo-token", name, {"label": "again"})
    if not r6.is_error and r6.data.get("request_id") not in (rid,):
        d6 = wait_fulfilled(m, r6.data["request_id"], "demo-token re-create after destroy", t0, 120, poll=0.2)
        tok6 = secret_of(m, d6.get("outputs") or {}, "token")
        R.check(tok6 and tok6 not in (token1,) and len(tok6) == 32, "re-created resource has a fresh token")
        ctx.add_secret("runner token v3", tok6 or "")
    else:
        R.bad("request after destroy accepted", r6.brief())
    work_dir_clean(a, "end of runner suite")

    # -- /metrics counts the runs this replica recorded, by kind and outcome
    st, _, text = http("GET", f"{a.base}/metrics")
    def runs(kind: str) -> float:
        for line in text.splitlines():
            if line.startswith(f'asgard_provisioning_runs_total{{kind="{kind}",outcome="fulfilled"}} '):
                return float(line.rsplit(" ", 1)[1])
        return 0.0
    R.check(st == 200 and runs("create") >= 2 and runs("destroy") >= 1,
            "/metrics counts the runner's fulfilled create and destroy runs",
            fail_detail=f"{st} " + " | ".join(l for l in text.splitlines() if "provisioning_runs" in l))


# ---------------------------------------------------------------- 6. bad input


def expect_error(r: Any, code: str, name: str, field: str | None = None, contains: str | None = None) -> bool:
    ok = r.is_error and r.code == code
    if ok and field is not None:
        ok = r.data.get("field") == field
    if ok and contains is not None:
        ok = contains in (r.data.get("message", "") + " " + r.data.get("hint", ""))
    return R.check(ok, name, r.data.get("message", "") if ok else "", r.brief())


def suite_bad(ctx: Ctx, a: Asgard) -> None:
    R.suite = "bad-input"
    pid = a.register("Bad input")
    key = a.key(pid)
    m = a.mcp(key)

    expect_error(m.request("demo-token", "../x"), "invalid_argument", "name `../x` refused", field="name")
    expect_error(m.request("demo-token", "a/../../etc"), "invalid_argument", "name `a/../../etc` refused",
                 field="name")
    expect_error(m.request("demo-token", "Upper"), "invalid_argument", "name with capitals refused", field="name")
    st, b, raw = a.rest("POST", f"/api/projects/{pid}/resources", {"service": "demo-token", "name": "../x"})
    R.check(st == 422 and (b or {}).get("error", {}).get("code") == "invalid_request"
            and (b or {}).get("error", {}).get("field") == "name",
            "REST: name `../x` -> 422 invalid_request naming the field", fail_detail=f"{st} {raw[:300]}")
    st, b, raw = a.rest("POST", f"/api/projects/{pid}/resources", {"service": "demo-token", "name": "x1", "bogus": 1})
    R.check(st == 422 or st == 400, "REST: unknown body field refused", f"{st}", f"{st} {raw[:300]}")
    st, b, raw = a.rest("POST", f"/api/projects/{pid}/resources", {"service": "demo-token", "name": "x1"}, token=key)
    R.check(st == 401, "REST does not accept a project key (keys are for /mcp)", f"{st}", f"{st} {raw[:200]}")
    expect_error(m.request("no-such-service", "x1"), "not_found", "unknown service -> not_found")
    expect_error(m.request("demo-token", "x1", {"colour": "red"}), "invalid_argument", "unknown spec key refused",
                 field="spec.colour")
    expect_error(m.request("ecr-repository", "x1", {"force_delete": False}), "invalid_argument",
                 "operator-locked key (ecr force_delete) refused", field="spec.force_delete", contains="locked")
    expect_error(m.request("rds-postgres", "x1", {"skip_final_snapshot": True}), "invalid_argument",
                 "operator-locked key (rds skip_final_snapshot) refused", field="spec.skip_final_snapshot")
    expect_error(m.request("demo-token", "x1", {"length": "abc"}), "invalid_argument", "wrong type (length: string)",
                 field="spec.length")
    expect_error(m.request("demo-token", "x1", {"length": 5}), "invalid_argument", "out of range (length: 5)",
                 field="spec.length")
    expect_error(m.request("demo-token", "x1", {"label": 123}), "invalid_argument", "wrong type (label: number)",
                 field="spec.label")
    expect_error(m.call("request_resource", {"service": "demo-token", "name": "x1", "spec": [1]}),
                 "invalid_argument", "spec that is not an object refused", field="spec")
    expect_error(m.request("ecs-service", "x1", {"image": "nginx", "vpc_id": "vpc-1", "subnet_ids": "subnet-1"}),
                 "invalid_argument", "wrong type (subnet_ids: string)", field="spec.subnet_ids")
    expect_error(m.request("ecs-service", "x1", {"image": "nginx"}), "invalid_argument",
                 "missing required inputs (ecs-service without vpc_id)")
    expect_error(m.request("ecs-service", "x1", {"image": "nginx", "vpc_id": "vpc-1",
                                                 "subnet_ids": ["subnet-1", "subnet-2"],
                                                 "grants": {"iam_admin": ["*"]}}),
                 "invalid_argument", "unknown grant refused", field="spec.grants.iam_admin")
    lr = m.call("list_resources", {})
    R.check(not lr.is_error and lr.data.get("resources") == [], "refused requests created no resource",
            fail_detail=lr.brief())

    # frozen project
    pf = a.register("Frozen")
    mf = a.mcp(a.key(pf))
    st, b, raw = a.rest("POST", f"/api/projects/{pf}/kill", {"reason": "provisioning test: freeze"})
    if R.check(st == 200 and (b or {}).get("killed") is True, "kill switch freezes the project",
               fail_detail=f"{st} {raw[:300]}"):
        r = mf.request("demo-token", "frozen-tok")
        R.check(r.is_error and r.status == 401,
                "a frozen project's key is refused at /mcp (401, SPEC §5.1)", r.code or "", r.brief())
        st, b, raw = a.rest("POST", f"/api/projects/{pf}/resources", {"service": "demo-token", "name": "frozen-tok"})
        R.check(st == 409 and (b or {}).get("error", {}).get("code") == "project_frozen",
                "request in a frozen project -> 409 project_frozen (REST, admin)", fail_detail=f"{st} {raw[:300]}")

    # over budget
    pb = a.register("Budget", budget_usd=0.5)
    mb = a.mcp(a.key(pb))
    expect_error(mb.request("ecr-repository", "too-dear"), "forbidden", "over budget -> forbidden",
                 contains="over budget")
    budget_race(ctx, a, [a], "bud")

    # approver must differ from the requester
    ps = a.register("Self approval")
    st, b, raw = a.rest("POST", f"/api/projects/{ps}/resources", {"service": "rds-postgres", "name": "self-db"})
    if R.check(st == 202 and (b or {}).get("state") == "pending_approval", "rds request by the admin is pending",
               fail_detail=f"{st} {raw[:300]}"):
        st2, b2, raw2 = a.approve(b["request_id"])
        R.check(st2 == 403 and (b2 or {}).get("error", {}).get("code") == "forbidden",
                "the requester cannot approve their own request (403)", fail_detail=f"{st2} {raw2[:300]}")
        st3, b3, raw3 = a.rest("DELETE", f"/api/projects/{ps}/resources/self-db", {"confirm": True})
        R.check(st3 == 202 and (b3 or {}).get("resource_state") == "destroyed",
                "withdrawing a pending request closes it at once (nothing was created)",
                fail_detail=f"{st3} {raw3[:300]}")
    ms_ = a.mcp(a.key(ps))
    r = ms_.request("rds-postgres", "withdrawn-db")
    if R.check(not r.is_error and r.data.get("state") == "pending_approval", "rds request by the key is pending",
               fail_detail=r.brief()):
        dp = ms_.call("deprovision_resource", {"resource": "withdrawn-db", "confirm": True})
        R.check(not dp.is_error and dp.data.get("resource_state") == "destroyed",
                "the agent withdraws it before approval", fail_detail=dp.brief())
        st4, b4, raw4 = a.approve(r.data["request_id"])
        R.check(st4 == 409 and (b4 or {}).get("error", {}).get("code") == "conflict",
                "a withdrawn request cannot be approved (409)", f"{st4}", f"{st4} {raw4[:300]}")
        g = ms_.get_request(r.data["request_id"])
        R.check(g.data.get("state") == "rejected", "the withdrawn request is closed (rejected, superseded)",
                g.data.get("decision_reason") or "", g.brief())

    # a module that fails to apply: an ECR name with "--" passes Asgard's name rule and the provider's
    # plan-time check, and is refused by the ECR API at apply time.
    t0 = time.monotonic()
    r = m.request("ecr-repository", "bad--name")
    if R.check(not r.is_error and r.data.get("state") == "queued", "ecr `bad--name` passes validation (queued)",
               fail_detail=r.brief()):
        d = m.wait(r.data["request_id"], 180, poll=0.5)
        reason = d.get("failure_reason") or ""
        R.check(d.get("state") == "failed" and d.get("resource_state") == "failed",
                "a module that fails to apply ends failed", f"{time.monotonic() - t0:.1f}s", fmt_state(d))
        R.check("terraform apply failed" in reason and ("repositoryName" in reason or "InvalidParameter" in reason),
                "failure_reason is a readable summary of Terraform's error", reason[:200], reason[:600])
        leaked = [k for k, v in ctx.secrets.items() if v in reason] + \
                 [k for k in ("ASGARD_SECRET_KEY",) if ctx.secret_key in reason]
        R.check(not leaked and "TF_HTTP_PASSWORD" not in reason and "Authorization" not in reason,
                "failure_reason holds no secret text", fail_detail=f"contains {leaked}")
        gr = m.call("get_resource", {"resource": "bad--name"})
        R.check(not gr.is_error and gr.data.get("last_error") == d.get("failure_reason"),
                "resource.last_error carries the same reason", fail_detail=gr.brief())
        R.check("== terraform apply ==" in a.run_log(r.data["request_id"]), "failed run's log is kept")
        dp = m.call("deprovision_resource", {"resource": "bad--name"})
        if not dp.is_error:
            dd = m.wait(dp.data["request_id"], 120)
            R.check(dd.get("resource_state") == "destroyed", "a failed resource can be deprovisioned",
                    fail_detail=fmt_state(dd))
    work_dir_clean(a, "after bad input")

    # allowlist: a second Asgard that may only target auth0:x
    b2 = ctx.asgard("allow-auth0", ctx.sqlite_url("allow-auth0"), tf_allowed="auth0:x")
    if boot(ctx, b2):
        try:
            p2 = b2.register("Allowlist")
            m2 = b2.mcp(b2.key(p2))
            r = m2.request("ecr-repository", "not-allowed")
            expect_error(r, "forbidden", "aws service outside the allowlist -> forbidden naming it", contains="auth0:x")
            r = m2.request("demo-token", "allowed-tok")
            if not r.is_error:
                d = m2.wait(r.data["request_id"], 120, poll=0.2)
                R.check(d.get("state") == "fulfilled", "provider-free service needs no allowlisted account",
                        fail_detail=fmt_state(d))
                ctx.add_secret("allowlist demo token", secret_of(m2, d.get("outputs") or {}, "token") or "")
            else:
                R.bad("provider-free service needs no allowlisted account", r.brief())
        finally:
            b2.stop()

    # unarmed: plan-only records, never fulfilled
    u = ctx.asgard("unarmed", ctx.sqlite_url("unarmed"), armed=False, tf_allowed=None, tf_env={})
    if boot(ctx, u):
        try:
            pu = u.register("Unarmed")
            mu = u.mcp(u.key(pu))
            ls = mu.call("list_services", {})
            R.check(not ls.is_error and ls.data.get("armed") is False and len(ls.data.get("services", [])) >= 7,
                    "unarmed: list_services lists the catalog with armed:false", fail_detail=ls.brief())
            for svc, nm in (("demo-token", "plan-tok"), ("ecr-repository", "plan-repo")):
                r = mu.request(svc, nm)
                plan = r.data.get("plan") or {}
                R.check(not r.is_error and r.data.get("state") == "planned" and r.data.get("armed") is False
                        and plan.get("armed") is False and plan.get("module") and "nothing was created"
                        in plan.get("message", ""),
                        f"unarmed {svc}: state planned, armed:false, a plan", fail_detail=r.brief())
                rid = r.data.get("request_id")
                # No worker runs on an unarmed replica, so there is nothing to wait for: the boot log says so.
                g = mu.get_request(rid) if rid else None
                R.check(g is not None and not g.is_error and g.data.get("state") == "planned"
                        and "provisioning=unarmed" in u.log_text(),
                        f"unarmed {svc}: planned, and no worker runs here",
                        fail_detail=(g.brief() if g else "no request id") + " " + u.tail(5))
            R.check(not (u.work_dir).exists(), "unarmed: no Terraform work dir was created")
        finally:
            u.stop()

    # armed without terraform or without the modules dir: boot refused
    for label, kw in (("no terraform binary", {"config_extra": "provisioning:\n  terraform: { bin: /nonexistent/terraform }\n"}),
                      ("no modules dir", {"modules_override": "/nonexistent/modules"})):
        mod = kw.pop("modules_override", None)
        x = ctx.asgard(f"refuse-{label.split()[1]}", ctx.sqlite_url(f"refuse-{label.split()[1]}"), **kw)
        if mod:
            x.env["ASGARD_TF_MODULES_DIR"] = mod
        started = x.start(timeout=20)
        rc = x.proc.poll() if x.proc else None
        R.check(not started and rc not in (None, 0), f"armed with {label}: boot refused", f"exit {rc}",
                x.tail(5))
        if started:
            x.stop()


def budget_race(ctx: Ctx, a: Asgard, replicas: list[Asgard], prefix: str) -> None:
    """5 concurrent ecr requests (1.00 USD/month each) against a 2.50 budget: at most 2 may be accepted."""
    pid = a.register(f"Budget race {prefix}", budget_usd=2.5)
    key = a.key(pid)
    ms = [r.mcp(key) for r in replicas]
    results: list[Any] = [None] * 5
    barrier = threading.Barrier(5)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = ms[i % len(ms)].request("ecr-repository", f"{prefix}-{i}")

    th = [threading.Thread(target=go, args=(i,)) for i in range(5)]
    for t in th:
        t.start()
    for t in th:
        t.join(60)
    accepted = [r for r in results if r is not None and not r.is_error]
    refused = [r for r in results if r is not None and r.is_error]
    R.check(len(accepted) <= 2 and all(r.code == "forbidden" and "over budget" in r.data.get("message", "")
                                       for r in refused) and len(accepted) + len(refused) == 5,
            f"concurrent requests cannot overshoot the budget ({len(replicas)} replica(s))",
            f"{len(accepted)} accepted, {len(refused)} refused over budget",
            f"accepted {len(accepted)}; answers: {[r.brief() if r else None for r in results]}")
    m = ms[0]
    done = m.wait_many([r.data["request_id"] for r in accepted], 300, poll=0.5)
    for rid, (d, _) in done.items():
        R.check(d.get("state") == "fulfilled", f"budgeted ecr {d.get('name')} fulfilled", fail_detail=fmt_state(d))
    drops = []
    for r in accepted:
        dp = m.call("deprovision_resource", {"resource": r.data["resource_id"]})
        if not dp.is_error:
            drops.append(dp.data["request_id"])
    for rid, (d, _) in m.wait_many(drops, 300, poll=0.5).items():
        R.check(d.get("resource_state") == "destroyed", f"budgeted ecr {d.get('name')} deprovisioned",
                fail_detail=fmt_state(d))


# ---------------------------------------------------------------- 2. e2e over MCP against moto


def suite_e2e(ctx: Ctx, a: Asgard) -> None:
    R.suite = "e2e-moto"
    aws = ctx.aws
    assert aws
    pid = a.register("E2E")
    key = a.key(pid)
    m = a.mcp(key)
    vpc_id, sa, sb = vpc(ctx)
    outs: dict[str, dict] = {}
    rids: dict[str, str] = {}

    with DiskSampler(a.work_dir) as disk:
        for svc, name, spec in (("ecr-repository", "e2e-repo", {}), ("secretsmanager-secret", "e2e-secret", {}),
                                ("s3-bucket", "e2e-bucket", {})):
            t0 = time.monotonic()
            r = m.request(svc, name, spec)
            if not R.check(not r.is_error and r.data.get("state") == "queued", f"{svc} accepted (queued)",
                           f"answered in {r.ms:.0f} ms", r.brief()):
                continue
            rids[name] = r.data["request_id"]
            d = wait_fulfilled(m, r.data["request_id"], f"{svc} create", t0, 300)
            outs[name] = d.get("outputs") or {}
        work_dir_clean(a, "after ecr/secret/s3")

        # rds + ecs need an admin's approval; they run concurrently once approved
        slow = {"e2e-db": ("rds-postgres", {}),
                "e2e-svc": ("ecs-service", {"image": "public.ecr.aws/nginx/nginx:1.27", "vpc_id": vpc_id,
                                            "subnet_ids": [sa, sb], "desired_count": 1})}
        pending: dict[str, str] = {}
        for name, (svc, spec) in slow.items():
            r = m.request(svc, name, spec)
            if R.check(not r.is_error and r.data.get("state") == "pending_approval" and r.data.get("needs_approval"),
                       f"{svc} waits for approval", r.data.get("approval_reason", ""), r.brief()):
                pending[name] = r.data["request_id"]
        # Wait on an event, not a clock: a request queued after them has run to the end, so the workers have
        # claimed work since, and the ones waiting for approval were not among it.
        probe = m.request("demo-token", "e2e-probe", {"label": "probe"})
        pd = m.wait(probe.data.get("request_id", ""), 120, poll=0.2) if not probe.is_error else {}
        for name, rid in pending.items():
            g = m.get_request(rid)
            R.check(pd.get("state") == "fulfilled" and g.data.get("state") == "pending_approval",
                    f"{slow[name][0]} does not run before approval (a later request ran first)",
                    fail_detail=f"{g.brief()} probe: {fmt_state(pd) if pd else probe.brief()}")
        # The probe goes again, so the project's secrets are only the services' below.
        pp = m.call("deprovision_resource", {"resource": "e2e-probe", "service": "demo-token"})
        if not pp.is_error:
            m.wait(pp.data["request_id"], 120, poll=0.2)
        starts: dict[str, float] = {}
        for name, rid in pending.items():
            st, b, raw = a.approve(rid)
            starts[rid] = time.monotonic()
            R.check(st == 200 and (b or {}).get("state") in ("queued", "running"),
                    f"admin approves {slow[name][0]} (queued)", fail_detail=f"{st} {raw[:300]}")
            rids[name] = rid
        child_env_check(ctx, a)
        done = m.wait_many(list(pending.values()), 900, poll=1.0)
        for name, rid in pending.items():
            d, t = done[rid]
            svc = slow[name][0]
            if R.check(d.get("state") == "fulfilled", f"{svc} fulfilled", fail_detail=fmt_state(d)):
                R.timing(f"{svc} create", t - starts[rid], run_span(d), "rds and ecs concurrently")
            else:
                log(a.run_log(rid)[-3000:])
            outs[name] = d.get("outputs") or {}
        R.check(0 < disk.peak < 20e6, "a run's work dir stays under 20 MB (sampled during the runs)",
                f"peak {disk.peak / 1e3:.0f} kB", f"peak {disk.peak} bytes")
    work_dir_clean(a, "after rds/ecs")

    # -- moto confirms the outputs
    o = outs.get("e2e-repo", {})
    rc, j, err = aws("ecr", "describe-repositories", "--repository-names", "e2e-repo")
    R.check(rc == 0 and j["repositories"][0]["repositoryUri"] == o.get("repository_url")
            and o.get("repository_url") == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/e2e-repo",
            "ecr: describe-repositories matches repository_url", o.get("repository_url", ""), err or json.dumps(o))
    o = outs.get("e2e-secret", {})
    val = secret_of(m, o, "value")
    rc, j, err = aws("secretsmanager", "get-secret-value", "--secret-id", o.get("secret_arn", "none"))
    R.check(rc == 0 and val and j.get("SecretString") == val and len(val) == 64 and HEX.match(val),
            "secretsmanager: get_secret value == get-secret-value (64 hex)", fail_detail=err or "value differs")
    R.check(o.get("value") == {"secret_ref": f"asgard://secrets/{pid}/secretsmanager-secret/e2e-secret/value"},
            "secretsmanager value output is a secret_ref", json.dumps(o.get("value")))
    ctx.add_secret("e2e secretsmanager value", val or "")
    o = outs.get("e2e-bucket", {})
    rc, j, err = aws("s3api", "head-bucket", "--bucket", o.get("bucket", "none"))
    R.check(rc == 0 and o.get("bucket") == f"e2e-bucket-{ACCOUNT}", "s3: head-bucket finds the bucket",
            o.get("bucket", ""), err)
    o = outs.get("e2e-db", {})
    rc, j, err = aws("rds", "describe-db-instances", "--db-instance-identifier", "e2e-db")
    inst = (j or {}).get("DBInstances", [{}])[0]
    R.check(rc == 0 and inst.get("Endpoint", {}).get("Address") == o.get("endpoint") and inst.get("StorageEncrypted"),
            "rds: describe-db-instances matches endpoint, storage encrypted", o.get("endpoint", ""), err or json.dumps(inst)[:300])
    pw = secret_of(m, o, "password")
    url = secret_of(m, o, "connection_url")
    rc, j, err = aws("secretsmanager", "get-secret-value", "--secret-id", o.get("secret_arn", "none"))
    try:
        stored = json.loads((j or {}).get("SecretString", "{}"))
    except json.JSONDecodeError:
        stored = {}
    R.check(pw and url and pw in url and stored.get("url") == url and stored.get("password") == pw,
            "rds: password/connection_url from get_secret match the connection secret in Secrets Manager",
            fail_detail=err or "mismatch")
    ctx.add_secret("e2e rds password", pw or "")
    ctx.add_secret("e2e rds connection_url", url or "")
    o = outs.get("e2e-svc", {})
    rc, j, err = aws("ecs", "describe-services", "--cluster", o.get("cluster", "none"), "--services", "e2e-svc")
    svc = ((j or {}).get("services") or [{}])[0]
    R.check(rc == 0 and svc.get("status") == "ACTIVE" and svc.get("serviceArn") == o.get("service_arn"),
            "ecs: describe-services ACTIVE, ARN matches service_arn", o.get("url", ""), err or json.dumps(svc)[:300])

    # -- another project's key cannot read these secrets
    other = a.mcp(a.key(a.register("E2E other")))
    x = other.secret(f"asgard://secrets/{pid}/secretsmanager-secret/e2e-secret/value")
    R.check(x.is_error and x.code in ("not_found", "forbidden") and (val or "zz") not in x.raw,
            "another project's key cannot read the secret", x.code or "", x.brief())

    # -- deprovision: data-bearing ones need confirm
    dp = m.call("deprovision_resource", {"resource": "e2e-bucket"})
    expect_error(dp, "invalid_argument", "data-bearing s3 deprovision without confirm refused", field="confirm")
    dp = m.call("deprovision_resource", {"resource": "e2e-db"})
    expect_error(dp, "invalid_argument", "data-bearing rds deprovision without confirm refused", field="confirm")
    drops: dict[str, str] = {}
    t0 = time.monotonic()
    for name in ("e2e-repo", "e2e-secret", "e2e-bucket", "e2e-db", "e2e-svc"):
        args: dict[str, Any] = {"resource": name}
        if name in ("e2e-bucket", "e2e-db"):
            args["confirm"] = True
        dp = m.call("deprovision_resource", args)
        if name in ("e2e-db", "e2e-svc"):
            # Their creates needed an admin's approval, so their destroys do too.
            if approve_gated_destroy(a, dp, f"deprovision {name}"):
                drops[name] = dp.data["request_id"]
        elif R.check(not dp.is_error and dp.data.get("kind") == "destroy"
                     and dp.data.get("state") in ("queued", "running", "fulfilled"),
                     f"deprovision {name} queued with no person", fail_detail=dp.brief()):
            drops[name] = dp.data["request_id"]
    done = m.wait_many(list(drops.values()), 900, poll=1.0)
    for name, rid in drops.items():
        d, t = done[rid]
        if R.check(d.get("state") == "fulfilled" and d.get("resource_state") == "destroyed", f"{name} destroyed",
                   fail_detail=fmt_state(d)):
            R.timing(f"{name} destroy", t - t0, run_span(d), "5 destroys queued together")
        else:
            log(a.run_log(rid)[-2000:])
    rc, j, err = aws("ecr", "describe-repositories", "--repository-names", "e2e-repo")
    R.check(rc != 0 and "RepositoryNotFound" in err, "ecr repository gone", fail_detail=err[:200])
    rc, j, err = aws("secretsmanager", "describe-secret", "--secret-id", "e2e-secret")
    R.check(rc != 0 and "ResourceNotFound" in err, "secretsmanager secret gone", fail_detail=err[:200])
    rc, j, err = aws("s3api", "head-bucket", "--bucket", f"e2e-bucket-{ACCOUNT}")
    R.check(rc != 0, "s3 bucket gone", fail_detail=err[:200])
    rc, j, err = aws("rds", "describe-db-instances", "--db-instance-identifier", "e2e-db")
    R.check(rc != 0 and "DBInstanceNotFound" in err, "rds instance gone", fail_detail=err[:200])
    rc, j, err = aws("rds", "describe-db-snapshots")
    snaps = [s["DBSnapshotIdentifier"] for s in (j or {}).get("DBSnapshots", [])]
    R.check(any(s.startswith("e2e-db-final-") for s in snaps), "rds final snapshot kept on destroy",
            ", ".join(snaps), f"snapshots: {snaps}")
    rc, j, err = aws("ecs", "describe-services", "--cluster", "e2e-svc", "--services", "e2e-svc")
    svcs = (j or {}).get("services") or []
    R.check(rc != 0 or not svcs or svcs[0].get("status") in ("INACTIVE", "DRAINING"), "ecs service gone",
            fail_detail=json.dumps(svcs)[:300] or err[:200])
    rc, j, err = aws("iam", "get-role", "--role-name", "e2e-svc-task")
    R.check(rc != 0 and "NoSuchEntity" in err, "ecs task role gone", fail_detail=err[:200])
    ls = m.call("list_secrets", {})
    R.check(not ls.is_error and ls.data.get("secrets") == [], "the project's secrets were deleted",
            fail_detail=ls.brief())
    work_dir_clean(a, "after deprovision")


# ---------------------------------------------------------------- 3. self-deploy appendix


def suite_selfdeploy(ctx: Ctx, a: Asgard) -> None:
    R.suite = "self-deploy"
    aws = ctx.aws
    assert aws
    pid = a.register("Asgard", classification="light-operational")
    key = a.key(pid)
    m = a.mcp(key)
    vpc_id, sa, sb = vpc(ctx)

    first = {"asgard": ("ecr-repository", {"name": "asgard"}),
             "asgard-db": ("rds-postgres", {"name": "asgard-db", "engine_version": "16"}),
             "asgard-key": ("secretsmanager-secret", {"name": "asgard-key", "byte_length": 32})}
    # The tier-aware policy: the ECR repository and the key secret run with no person; RDS waits, and says
    # who approves it and where.
    pending: dict[str, str] = {}
    starts = {}
    for name, (svc, spec) in first.items():
        r = m.request(svc, name, spec)
        if svc == "rds-postgres":
            a_ = r.data.get("approval") or {}
            if R.check(not r.is_error and r.data.get("state") == "pending_approval"
                       and a_.get("approver_role") == "admin"
                       and a_.get("route") == f"/api/requests/{r.data.get('request_id')}/approve",
                       f"{svc} {name} needs approval at light-operational, saying who and where",
                       r.data.get("approval_reason", ""), r.brief()):
                pending[name] = r.data["request_id"]
                st, b, raw = a.approve(r.data["request_id"])
                R.check(st == 200, f"admin approves {name}", fail_detail=f"{st} {raw[:300]}")
        elif R.check(not r.is_error and not r.data.get("needs_approval")
                     and r.data.get("state") in ("queued", "running", "fulfilled"),
                     f"{svc} {name} runs with no person at light-operational", fail_detail=r.brief()):
            pending[name] = r.data["request_id"]
        if name in pending:
            starts[pending[name]] = time.monotonic()
    done = m.wait_many(list(pending.values()), 900, poll=1.0)
    outs: dict[str, dict] = {}
    for name, rid in pending.items():
        d, t = done[rid]
        if R.check(d.get("state") == "fulfilled", f"{first[name][0]} {name} fulfilled", fail_detail=fmt_state(d)):
            R.timing(f"{first[name][0]} {name} create", t - starts[rid], run_span(d), "3 asked together")
        else:
            log(a.run_log(rid)[-3000:])
        outs[name] = d.get("outputs") or {}
    if len(outs) < 3 or any(not o for o in outs.values()):
        R.bad("self-deploy prerequisites", "cannot request ecs-service without the ECR, DB and key outputs")
        return

    ecr_uri = outs["asgard"]["repository_url"]
    db_secret_arn = outs["asgard-db"]["secret_arn"]
    key_secret_arn = outs["asgard-key"]["secret_arn"]
    kms_arn = outs["asgard-key"]["kms_key_arn"]
    keyval = secret_of(m, outs["asgard-key"], "value")
    rc, j, err = aws("secretsmanager", "get-secret-value", "--secret-id", key_secret_arn)
    R.check(keyval and len(keyval) == 64 and HEX.match(keyval) and rc == 0 and j.get("SecretString") == keyval,
            "asgard-key: 64-hex value (usable as ASGARD_SECRET_KEY) equals Secrets Manager's", fail_detail=err)
    ctx.add_secret("self-deploy asgard-key value", keyval or "")
    dburl = secret_of(m, outs["asgard-db"], "connection_url")
    ctx.add_secret("self-deploy db connection_url", dburl or "")
    ctx.add_secret("self-deploy db password", secret_of(m, outs["asgard-db"], "password") or "")

    certdir = ctx.tmp / "cert"
    certdir.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(certdir / "key.pem"),
                    "-out", str(certdir / "cert.pem"), "-days", "30", "-subj", "/CN=asgard.example.com"],
                   capture_output=True, check=False)
    rc, j, err = aws("acm", "import-certificate", "--certificate", f"fileb://{certdir / 'cert.pem'}",
                     "--private-key", f"fileb://{certdir / 'key.pem'}")
    if not R.check(rc == 0 and j and j.get("CertificateArn"), "acm import-certificate (self-signed)",
                   fail_detail=err):
        return
    cert = j["CertificateArn"]
    sha = subprocess.run(["git", "-C", str(ctx.root), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip() or "0000000"
    image = f"{ecr_uri}:sha-{sha}"
    spec = {"name": "asgard", "image": image, "vpc_id": vpc_id, "subnet_ids": [sa, sb], "cpu": "512",
            "memory": "1024", "container_port": 8080, "health_path": "/readyz", "certificate_arn": cert,
            "idle_timeout": 900, "desired_count": 1,
            "env": {"ASGARD_DATABASE_URL_SECRET_ARN": db_secret_arn, "ASGARD_SECRET_KEY_SECRET_ARN": key_secret_arn},
            "grants": {"secrets_read": [db_secret_arn, key_secret_arn], "kms_decrypt": [kms_arn]}}
    r = m.request("ecs-service", "asgard", spec)
    if not R.check(not r.is_error and r.data.get("state") == "pending_approval", "ecs-service asgard needs approval",
                   fail_detail=r.brief()):
        return
    R.check(r.data.get("allowlisted_grants") == [], "every grant is one of the project's own outputs (none allowlisted)",
            fail_detail=r.brief())
    st, b, raw = a.approve(r.data["request_id"])
    t0 = time.monotonic()
    R.check(st == 200, "admin approves ecs-service asgard", fail_detail=f"{st} {raw[:300]}")
    d = wait_fulfilled(m, r.data["request_id"], "ecs-service asgard (appendix spec) create", t0, 900, poll=1.0)
    if d.get("state") != "fulfilled":
        log(a.run_log(r.data["request_id"])[-3000:])
        return
    o = d.get("outputs") or {}
    R.check(str(o.get("url", "")).startswith("https://"), "url is https (certificate_arn given)", o.get("url", ""))
    rc, j, err = aws("ecs", "describe-services", "--cluster", o.get("cluster", ""), "--services", "asgard")
    s = ((j or {}).get("services") or [{}])[0]
    R.check(rc == 0 and s.get("status") == "ACTIVE" and s.get("desiredCount") == 1, "ecs service ACTIVE, desired 1",
            fail_detail=err or json.dumps(s)[:300])
    role = str(o.get("task_role_arn", "")).rsplit("/", 1)[-1]
    rc, j, err = aws("iam", "list-role-policies", "--role-name", role)
    R.check(rc == 0 and (j or {}).get("PolicyNames") == ["asgard-grants"], "task role has exactly one policy",
            json.dumps((j or {}).get("PolicyNames")), err or json.dumps(j))
    rc, j, err = aws("iam", "get-role-policy", "--role-name", role, "--policy-name", "asgard-grants")
    doc = (j or {}).get("PolicyDocument") or {}
    if isinstance(doc, str):
        doc = json.loads(doc)

    def norm(x: Any) -> list:
        return sorted(x) if isinstance(x, list) else [x]

    got = {st_.get("Sid"): (norm(st_.get("Action")), norm(st_.get("Resource"))) for st_ in doc.get("Statement", [])}
    want = {"SecretsRead": (["secretsmanager:GetSecretValue"], sorted([db_secret_arn, key_secret_arn])),
            "KmsDecrypt": (["kms:Decrypt"], [kms_arn])}
    R.check(got == want, "task-role policy holds exactly the secrets_read and kms_decrypt grants",
            fail_detail=f"got {got}")
    rc, j, err = aws("elbv2", "describe-load-balancers", "--names", "asgard")
    lb = ((j or {}).get("LoadBalancers") or [{}])[0].get("LoadBalancerArn", "")
    rc, j, err = aws("elbv2", "describe-load-balancer-attributes", "--load-balancer-arn", lb)
    attrs = {x["Key"]: x["Value"] for x in (j or {}).get("Attributes", [])}
    R.check(attrs.get("idle_timeout.timeout_seconds") == "900", "ALB idle_timeout 900",
            fail_detail=str(attrs.get("idle_timeout.timeout_seconds")))
    rc, j, err = aws("elbv2", "describe-listeners", "--load-balancer-arn", lb)
    ls = {(x["Port"], x["DefaultActions"][0]["Type"]): x for x in (j or {}).get("Listeners", [])}
    https = ls.get((443, "forward"))
    R.check(https and https.get("Protocol") == "HTTPS" and https.get("Certificates", [{}])[0].get("CertificateArn") == cert
            and (80, "redirect") in ls, "HTTPS listener on 443 with the imported cert, 80 redirects",
            fail_detail=json.dumps(list(ls.keys())))
    rc, j, err = aws("elbv2", "describe-target-groups", "--load-balancer-arn", lb)
    tg = ((j or {}).get("TargetGroups") or [{}])[0]
    R.check(tg.get("HealthCheckPath") == "/readyz" and tg.get("Port") == 8080, "target group: /readyz on 8080",
            fail_detail=json.dumps(tg)[:300])
    rc, j, err = aws("ecs", "describe-task-definition", "--task-definition", s.get("taskDefinition", "asgard"))
    td = (j or {}).get("taskDefinition") or {}
    cd = (td.get("containerDefinitions") or [{}])[0]
    env = {e["name"]: e["value"] for e in cd.get("environment", [])}
    R.check(td.get("cpu") == "512" and td.get("memory") == "1024" and cd.get("image") == image
            and env == spec["env"], "task definition: cpu 512, memory 1024, image, env with both ARNs",
            fail_detail=json.dumps({"cpu": td.get("cpu"), "memory": td.get("memory"), "image": cd.get("image"),
                                    "env": env})[:400])
    R.check(keyval not in json.dumps(td) and (dburl or "zz") not in json.dumps(td),
            "no secret value in the task definition (ARNs only)")


# ---------------------------------------------------------------- 4. leak scan


def leak_scan(ctx: Ctx, a: Asgard, engine: str, db_url: str, others: list[Asgard], work_dirs: list[Path]) -> None:
    R.suite = f"leak-{engine}"
    vals = {k: v for k, v in ctx.secrets.items() if v}
    if not vals:
        R.skip("leak scan", "no secret values were produced on this engine (run it with the other suites)")
        return
    R.ok("secret values collected for the scan", f"{len(vals)}: {', '.join(vals)}")
    vals_master = dict(vals)
    vals_master["ASGARD_SECRET_KEY"] = ctx.secret_key
    vals_master["ASGARD_ADMIN_PASSWORD"] = ctx.admin_pw

    def scan_text(source: str, text: str, include_master: bool = True, hex_too: bool = False) -> None:
        pool = vals_master if include_master else vals
        hits = [k for k, v in pool.items() if v in text or (hex_too and v.encode().hex() in text)]
        R.check(not hits, f"no secret value in {source}", f"{len(pool)} values, {len(text)} chars",
                f"found {hits}")

    def scan_bytes(source: str, data: bytes) -> None:
        hits = [k for k, v in vals_master.items() if v.encode() in data]
        R.check(not hits, f"no secret value in {source}", f"{len(data)} bytes", f"found {hits}")

    # the scanner itself finds what it looks for (a get_secret answer holds the value)
    probe_key, probe_val = next(iter(vals.items()))
    R.check(probe_val in json.dumps({"value": probe_val}), "scanner self-check", probe_key)

    # database
    if db_url.startswith("sqlite:"):
        path = sqlite_file(db_url)
        p = subprocess.run(["sqlite3", path, ".dump"], capture_output=True, text=True, errors="replace")
        R.check(p.returncode == 0 and "CREATE TABLE" in p.stdout, "sqlite3 .dump ran", f"{len(p.stdout)} chars",
                p.stderr[:300])
        scan_text("the SQLite dump (text and hex-encoded blobs)", p.stdout, hex_too=True)
        raw = b""
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                raw += Path(path + suffix).read_bytes()
            except OSError:
                pass
        scan_bytes("the raw SQLite file bytes (db, -wal, -shm)", raw)
        tables_ok, tables = db_query(db_url, "SELECT name FROM sqlite_master WHERE type='table'")
    else:
        p = subprocess.run(["pg_dump", "--no-owner", db_url], capture_output=True, text=True, errors="replace")
        R.check(p.returncode == 0 and "CREATE TABLE" in p.stdout, "pg_dump ran", f"{len(p.stdout)} chars",
                p.stderr[:300])
        scan_text("the Postgres dump (text and hex-encoded bytea)", p.stdout, hex_too=True)
        tables_ok, tables = db_query(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    R.note("tables dumped: " + " ".join(sorted(tables.split())))
    ok1, n_sec = db_query(db_url, "SELECT COUNT(*) FROM secrets")
    ok2, n_st = db_query(db_url, "SELECT COUNT(*) FROM tf_states")
    ok3, n_log = db_query(db_url, "SELECT COUNT(*) FROM run_logs")
    R.check(ok1 and ok2 and ok3 and int(n_sec or 0) > 0 and int(n_st or 0) > 0 and int(n_log or 0) > 0,
            "the dump holds the sealed secrets, states and run logs it was scanned for",
            f"{n_sec} secret rows, {n_st} states, {n_log} run logs", f"{n_sec} {n_st} {n_log}")

    # logs of every Asgard process of this engine
    for x in [a, *others]:
        scan_text(f"the asgard log ({x.name})", x.log_text())

    # audit, run logs, REST records
    audit = a.audit()
    R.check(len(audit) > 10 and any('"secret.read"' in e for e in audit), "audit rows read (secret.read recorded)",
            f"{len(audit)} events")
    scan_text("the audit rows", "\n".join(audit))
    reqs = a.all_requests()
    logs = [a.run_log(r["request_id"]) for r in reqs]
    R.check(sum(1 for x in logs if x) >= 3, "run logs read", f"{sum(1 for x in logs if x)} of {len(reqs)} requests")
    scan_text("the run logs", "\n".join(logs))
    st, b, raw_reqs = a.rest("GET", "/api/requests?limit=500")
    st2, projs, _ = a.rest("GET", "/api/projects?limit=500")
    records = raw_reqs
    for pr in (projs or {}).get("projects", []):
        for path in (f"/api/projects/{pr['project_id']}/resources?include_destroyed=true",
                     f"/api/projects/{pr['project_id']}/secrets", f"/api/projects/{pr['project_id']}/cost"):
            records += a.rest("GET", path)[2]
    scan_text("REST records (requests, resources, secrets lists, cost)", records)

    # every MCP answer except get_secret's
    text = "\n".join(raw for _, raw in Mcp.transcript)
    R.check(len(Mcp.transcript) > 20, "MCP answers recorded", f"{len(Mcp.transcript)} answers")
    scan_text("MCP answers other than get_secret", text)

    # what is left under the Terraform work dirs
    for wd in work_dirs:
        data = b""
        entries, states = tree_report(wd)
        for dirpath, _, files in os.walk(wd):
            for f in files:
                fp = os.path.join(dirpath, f)
                if not os.path.islink(fp):
                    try:
                        data += Path(fp).read_bytes()
                    except OSError:
                        pass
        scan_bytes(f"files left under {wd.name}/ ({len(entries)} entries)", data)


# ---------------------------------------------------------------- 5. faults (Postgres, two replicas)


def suite_faults(ctx: Ctx, db_url: str) -> list[Asgard]:
    R.suite = "faults-pg"
    extra = "lease_ttl_secs: 6\n"
    A = ctx.asgard("pg-a", db_url, config_extra=extra, work_dir=ctx.tmp / "tf-pg-a")
    B = ctx.asgard("pg-b", db_url, config_extra=extra, work_dir=ctx.tmp / "tf-pg-b")
    if not (boot(ctx, A) and boot(ctx, B)):
        return [A, B]
    pid = A.register("Faults")
    key = A.key(pid)
    mA, mB = A.mcp(key), B.mcp(key)
    R.ok("two replicas on one Postgres", f"lease_ttl_secs 6, ports {A.port} and {B.port}")

    # -- 10 concurrent requests for different resources, spread over both replicas
    results: list[Any] = [None] * 10
    barrier = threading.Barrier(10)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = (mA if i % 2 == 0 else mB).request("demo-token", f"par-{i}", {"label": f"p{i}"})

    t0 = time.monotonic()
    th = [threading.Thread(target=go, args=(i,)) for i in range(10)]
    for t in th:
        t.start()
    for t in th:
        t.join(60)
    ok = [r for r in results if r is not None and not r.is_error]
    R.check(len(ok) == 10, "10 concurrent requests accepted", f"max answer {max(r.ms for r in ok):.0f} ms" if ok else "",
            f"{[r.brief() for r in results if r is None or r.is_error]}")
    done = mA.wait_many([r.data["request_id"] for r in ok], 240, poll=0.5)
    wall = max((t for _, t in done.values()), default=t0) - t0
    fulfilled = [d for d, _ in done.values() if d.get("state") == "fulfilled"]
    if R.check(len(fulfilled) == 10, "10 concurrent demo-token requests all fulfilled", f"{wall:.1f}s",
               f"{[fmt_state(d) for d, _ in done.values() if d.get('state') != 'fulfilled']}"):
        spans = [run_span(d) or 0 for d in fulfilled]
        R.timing("10 concurrent demo-token creates (2 replicas)", wall, max(spans),
                 f"longest single run; mean run {sum(spans) / len(spans):.1f}s")
    ids = ",".join(f"'{r.data['request_id']}'" for r in ok)
    okq, n = db_query(db_url, f"SELECT COUNT(DISTINCT claimed_by) FROM requests WHERE id IN ({ids})")
    R.note(f"the 10 runs were claimed by {n} replica(s)")
    toks = {secret_of(mA, d.get("outputs") or {}, "token") for d in fulfilled}
    R.check(len(toks) == 10 and None not in toks, "10 distinct tokens readable with get_secret")
    for i, tkn in enumerate(sorted(t for t in toks if t)):
        ctx.add_secret(f"faults parallel token {i}", tkn)

    # -- two requests for the same resource at once run one after the other (two rounds)
    for rnd, (la, lb) in enumerate((("a", "b"), ("c", "d"))):
        pair: list[Any] = [None, None]
        bar = threading.Barrier(2)

        def one(i: int, m: Mcp, label: str) -> None:
            bar.wait()
            pair[i] = m.request("demo-token", "same", {"label": label})

        ts_ = [threading.Thread(target=one, args=(0, mA, la)), threading.Thread(target=one, args=(1, mB, lb))]
        for t in ts_:
            t.start()
        for t in ts_:
            t.join(60)
        good = [p for p in pair if p is not None and not p.is_error]
        if not R.check(len(good) == 2 and good[0].data["request_id"] != good[1].data["request_id"],
                       f"round {rnd + 1}: both requests for one resource accepted (two requests)",
                       fail_detail=str([p.brief() if p else None for p in pair])):
            continue
        fin = mA.wait_many([p.data["request_id"] for p in good], 180, poll=0.3)
        recs = [fin[p.data["request_id"]][0] for p in good]
        R.check(all(d.get("state") == "fulfilled" for d in recs), f"round {rnd + 1}: both fulfilled",
                fail_detail=str([fmt_state(d) for d in recs]))
        iv = sorted((ts(d.get("started_at")) or 0, ts(d.get("finished_at")) or 0, d) for d in recs)
        (s1, f1, d1), (s2, f2, d2) = iv
        R.check(f1 <= s2, f"round {rnd + 1}: the runs did not overlap (one after the other)",
                f"first {s1:.2f}-{f1:.2f}, second starts {s2 - f1:.2f}s after", f"overlap: {iv[:2]}")
        g = mA.call("get_resource", {"resource": "same"})
        R.check((g.data.get("outputs") or {}).get("label") == d2.get("spec", {}).get("label"),
                f"round {rnd + 1}: the resource holds the later run's spec",
                f"label {(g.data.get('outputs') or {}).get('label')}", g.brief())
    ctx.add_secret("faults same token", secret_of(mA, (mA.call("get_resource", {"resource": "same"}).data.get("outputs") or {}), "token") or "")

    # -- budget reservation across replicas
    budget_race(ctx, A, [A, B], "pbud")

    # -- kill -9 the replica applying a slow run (rds-postgres under moto takes ~90 s)
    r = mA.request("rds-postgres", "fault-db", {})
    if not R.check(not r.is_error and r.data.get("state") == "pending_approval", "rds fault-db pending",
                   fail_detail=r.brief()):
        return [A, B]
    rid, res_id = r.data["request_id"], r.data["resource_id"]
    A.approve(rid)
    victim, tf_pid = None, None
    end = time.monotonic() + 90
    while time.monotonic() < end and victim is None:
        for x in (A, B):
            for p in children_named(x.proc.pid, "terraform"):
                if " apply " in f" {cmdline(p)} ":
                    victim, tf_pid = x, p
        time.sleep(0.2)
    if not R.check(victim is not None, "a replica runs terraform apply for fault-db",
                   victim.name if victim else "", "no terraform apply child seen within 90 s"):
        return [A, B]
    aws = ctx.aws
    assert aws
    # Terraform persists an intermediate snapshot through the http backend only when a resource completes
    # >= 20 s after the previous one (for rds-postgres usually none before the kill); if there is one, the
    # re-run must start from it.
    # Kill as soon as the RDS create is in flight (the instance is visible in moto), not later: a grace
    # period counted from the run's start (the old reconciler's 30 s) would then show in the failover time.
    applying_since = time.monotonic()
    before = None
    while time.monotonic() - applying_since < 20 and pid_alive(tf_pid):
        before = tf_state_version(A, res_id)
        rc, _, _ = aws("rds", "describe-db-instances", "--db-instance-identifier", "fault-db")
        if before or rc == 0:
            break
        time.sleep(0.3)
    rc, j, _ = aws("rds", "describe-db-instances", "--db-instance-identifier", "fault-db")
    R.check(pid_alive(tf_pid) and rc == 0, "kill point: the RDS create is in flight",
            f"{time.monotonic() - applying_since:.0f}s into the apply, intermediate state version {before}",
            f"terraform alive {pid_alive(tf_pid)}, instance in moto {rc == 0}")
    if not before:
        R.note("Terraform had persisted no intermediate state snapshot when the replica was killed")
    survivor = B if victim is A else A
    mS = survivor.mcp(key)
    kill_at = time.time()
    victim.kill9()
    # SIGKILL went to the whole group; give the kernel a moment to tear the Terraform child down.
    gone_by = time.monotonic() + 3
    while pid_alive(tf_pid) and time.monotonic() < gone_by:
        time.sleep(0.05)
    R.check(not victim.alive() and not pid_alive(tf_pid),
            "kill -9 of the replica running the apply (and its terraform child)",
            f"{victim.name}, state version before kill: {before}")
    d = mS.wait(rid, 420, poll=1.0, until=("fulfilled", "failed"))
    reason = d.get("failure_reason") or ""
    R.check(d.get("state") in ("fulfilled", "failed") and (d.get("state") == "fulfilled" or reason),
            "after the lease expired the survivor finished or cleanly failed the run",
            f"{d.get('state')}{': ' + reason[:160] if reason else ''}", fmt_state(d))
    restarted = ts(d.get("started_at"))
    if restarted:
        failover = restarted - kill_at
        R.check(failover < 6 + 12, "failover bounded by the lease (lease_ttl 6 s + reconciler/worker polls)",
                f"re-run started {failover:.1f}s after the kill", f"{failover:.1f}s")
    R.check((d.get("attempts") or 0) >= 2 or "replica" in reason, "the run was re-attempted by the survivor",
            f"attempts {d.get('attempts')}")
    after = tf_state_version(survivor, res_id)
    R.check((before or 0) <= (after or 0), "no state lost (state version kept or advanced)",
            f"{before} -> {after}")
    okl, locks = db_query(db_url, f"SELECT COUNT(*) FROM tf_locks WHERE resource_id = '{res_id}'")
    R.check(okl and locks == "0", "no Terraform lock left behind", fail_detail=locks)
    rl = survivor.run_log(rid)
    R.check("== terraform" in rl, "the final attempt's run log is kept")
    if before:
        R.check("terraform_data.password: Creating" not in rl and "terraform_data.password: Refreshing" in rl,
                "the re-run started from the state the killed run persisted (password refreshed, not re-created)",
                fail_detail=rl[-1500:])
    if d.get("state") == "fulfilled":
        rc, j, err = aws("rds", "describe-db-instances", "--db-instance-identifier", "fault-db")
        R.check(rc == 0 and len(j["DBInstances"]) == 1, "exactly one fault-db instance exists")
        ctx.add_secret("faults rds password", secret_of(mS, d.get("outputs") or {}, "password") or "")
    else:
        R.note(f"outcome: failed with reason {reason[:300]!r}. The killed apply had already created cloud "
               "objects Terraform had not yet recorded (it persists a snapshot only when a resource completes "
               ">= 20 s after the last one), so the re-run cannot adopt them (Terraform semantics)")
    # the leftovers of the killed run: scratch only, never state
    entries, states = tree_report(victim.work_dir)
    real_states = [s for s in states if not s.startswith(".terraform/") and "/.terraform/" not in s]
    R.check(not real_states, "the killed replica's scratch dir holds no terraform.tfstate (state lives in the DB)",
            f"{len(entries)} leftover entries", f"{real_states}")
    creds_on_disk = []
    for st_ in states:
        try:
            cfg = json.loads((victim.work_dir / st_).read_text()).get("backend", {}).get("config", {})
            if cfg.get("password") or cfg.get("username"):
                creds_on_disk.append(st_)
        except (OSError, json.JSONDecodeError):
            pass
    R.check(not creds_on_disk, "the leftover backend config holds no backend credential (password null)",
            fail_detail=str(creds_on_disk))
    # clean up through the survivor
    dp = mS.call("deprovision_resource", {"resource": "fault-db", "confirm": True})
    # Its create needed an admin's approval, so its destroy does too: approved on the survivor.
    if approve_gated_destroy(survivor, dp, "fault-db deprovision"):
        dd = mS.wait(dp.data["request_id"], 420, poll=1.0)
        R.check(dd.get("resource_state") == "destroyed", "fault-db deprovisioned through the survivor",
                fail_detail=fmt_state(dd))
        if d.get("state") != "fulfilled":
            rc, j, _ = aws("rds", "describe-db-instances", "--db-instance-identifier", "fault-db")
            rc2, _, _ = aws("secretsmanager", "describe-secret", "--secret-id", "fault-db/connection")
            orphans = [n for n, c in (("rds instance fault-db", rc), ("secret fault-db/connection", rc2)) if c == 0]
            if orphans:
                R.note("the record says destroyed, but these objects of the killed run are still in the cloud "
                       f"(never in Terraform's state): {', '.join(orphans)}")
    return [A, B]


# ---------------------------------------------------------------- main


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: run.sh BIN", file=sys.stderr)
        return 2
    bin_path = os.path.abspath(sys.argv[1])
    if not os.access(bin_path, os.X_OK):
        print(f"FAIL provisioning: {bin_path} is not an executable", flush=True)
        return 1
    ctx = Ctx(bin_path)
    exit_handlers()

    def cleanup() -> None:
        PROCS.stop_all()
        for u in ctx.pg_dbs:
            pg_drop_db(u)
        if os.environ.get("PROV_KEEP_TMP") == "1":
            log(f"kept {ctx.tmp}")
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)

    atexit.register(cleanup)
    missing = [t for t in ("terraform", "moto_server", "aws", "sqlite3", "openssl") if not which(t)]
    if ctx.pg_url:
        missing += [t for t in ("psql", "pg_dump") if not which(t)]
    if missing:
        print(f"FAIL provisioning: missing tools: {' '.join(missing)}", flush=True)
        return 1
    if not Path("/opt/tf-plugins").is_dir():
        print("FAIL provisioning: /opt/tf-plugins (the hashicorp/aws mirror) is missing", flush=True)
        return 1
    log(f"provisioning suite: binary {bin_path}, tmp {ctx.tmp}, logs {ctx.logs}, "
        f"postgres {'yes' if ctx.pg_url else 'no (ASGARD_TEST_PG_URL unset)'}")
    t_all = time.monotonic()
    R.suite = "setup"
    if not start_moto(ctx):
        R.bad("moto_server up")
        return R.summary()
    R.ok("moto_server up", ctx.endpoint)

    sqlite_phase = any(ctx.want(s) for s in ("runner", "bad", "fixes", "security", "grants", "e2e", "selfdeploy",
                                             "leak"))
    if sqlite_phase:
        # GRANTS_CONFIG opens the `provisioning:` mapping; the fixture services (a stoppable token) join it.
        fixtures = ctx.root / "tests" / "provisioning" / "fixtures" / "services"
        a = ctx.asgard("sqlite", ctx.sqlite_url("main"), config_extra=GRANTS_CONFIG + f"  services_dir: {fixtures}\n")
        if boot(ctx, a):
            for s, fn in (("runner", lambda: suite_runner(ctx, a, "sqlite")), ("bad", lambda: suite_bad(ctx, a)),
                          ("fixes", lambda: suite_fixes(ctx, a)),
                          ("security", lambda: suite_security(ctx, a, vpc)),
                          ("grants", lambda: suite_grants(ctx, a, vpc(ctx))),
                          ("e2e", lambda: suite_e2e(ctx, a)), ("selfdeploy", lambda: suite_selfdeploy(ctx, a)),
                          ("leak", lambda: leak_scan(ctx, a, "sqlite", a.db_url, [], [a.work_dir]))):
                if ctx.want(s):
                    t = time.monotonic()
                    try:
                        fn()
                    except Exception as e:  # noqa: BLE001 - a crash in one suite is a failure, not an abort
                        R.bad("suite crashed", f"{type(e).__name__}: {e}")
                        import traceback
                        traceback.print_exc()
                    log(f"---- {s} (sqlite) took {time.monotonic() - t:.0f}s")
            if not a.alive():
                R.bad("asgard (sqlite) still running at the end", a.tail(20))
            rc = a.stop()
            R.suite = "sqlite"
            R.check(rc == 0, "asgard (sqlite) stops cleanly on SIGTERM", f"exit {rc}")

    if ctx.want("runner") or ctx.want("faults") or ctx.want("leak") or ctx.want("security"):
        R.suite = "postgres"
        if not ctx.pg_url:
            R.skip("Postgres suites (runner on Postgres, faults, leak scan of pg_dump)",
                   "ASGARD_TEST_PG_URL is not set; the fault tests need Postgres (SQLite runs one replica)")
        else:
            try:
                db = pg_create_db(ctx.pg_url, "prov")
                ctx.pg_dbs.append(db)
            except RuntimeError as e:
                R.bad("create a fresh Postgres database", str(e))
                db = ""
            if db:
                ran: list[Asgard] = []
                if ctx.want("runner"):
                    p = ctx.asgard("pg-runner", db, work_dir=ctx.tmp / "tf-pg-runner")
                    if boot(ctx, p):
                        t = time.monotonic()
                        try:
                            suite_runner(ctx, p, "postgres")
                        except Exception as e:  # noqa: BLE001
                            R.bad("suite crashed", f"{type(e).__name__}: {e}")
                            import traceback
                            traceback.print_exc()
                        log(f"---- runner (postgres) took {time.monotonic() - t:.0f}s")
                        R.suite = "postgres"
                        R.check(p.stop() == 0, "asgard (postgres runner) stops cleanly on SIGTERM")
                    ran.append(p)
                if ctx.want("security"):
                    # A database of its own: the replicas' loop leases outlive them and would hold up the
                    # fault suite's leader election.
                    t = time.monotonic()
                    try:
                        sdb = pg_create_db(ctx.pg_url, "sec")
                        ctx.pg_dbs.append(sdb)
                        ran += suite_unarmed_replica(ctx, sdb, boot)
                    except Exception as e:  # noqa: BLE001
                        R.bad("suite crashed", f"{type(e).__name__}: {e}")
                        import traceback
                        traceback.print_exc()
                    for x in ran:
                        if x.alive():
                            x.stop()
                    log(f"---- security (postgres) took {time.monotonic() - t:.0f}s")
                replicas: list[Asgard] = []
                if ctx.want("faults"):
                    t = time.monotonic()
                    try:
                        replicas = suite_faults(ctx, db)
                    except Exception as e:  # noqa: BLE001
                        R.bad("suite crashed", f"{type(e).__name__}: {e}")
                        import traceback
                        traceback.print_exc()
                    log(f"---- faults (postgres) took {time.monotonic() - t:.0f}s")
                live = [x for x in replicas if x.alive()]
                if ctx.want("leak"):
                    scanner = live[0] if live else ctx.asgard("pg-scan", db, work_dir=ctx.tmp / "tf-pg-scan")
                    if live or boot(ctx, scanner):
                        leak_scan(ctx, scanner, "postgres", db, [x for x in ran + replicas if x is not scanner],
                                  [x.work_dir for x in ran + replicas if x is not scanner] + [scanner.work_dir])
                        if not live:
                            scanner.stop()
                for x in live:
                    x.stop()
    log(f"provisioning suite took {time.monotonic() - t_all:.0f}s")
    return R.summary()


if __name__ == "__main__":
    sys.exit(main())
