"""Regression checks for the attack findings of issue 8 that need real Terraform (moto for the aws services).

  8.1  an update waiting for approval never reaches the cloud through kill/unkill: approve S1, kill, unkill,
       request S2 (pending), let the resume finish, kill and unkill again; moto still runs S1 until S2 is
       approved, then runs S2 (SQLite)
  8.3  a pending downscale keeps committing the applied estimate: pending downscale, three new services,
       reject; the committed total never passes the budget (SQLite)
  8.6  an unarmed replica never downgrades an applied resource: a change through it is a 409 `conflict`,
       a destroy through it queues for the armed replica, which destroys the token and its secret; the
       unarmed replica warns at boot (Postgres, one armed and one unarmed replica)

Each check fails on the code before its fix.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from lib import R, Asgard, approve_gated_destroy, fmt_state

IMAGE_OK = "public.ecr.aws/nginx/nginx:1.27"
IMAGE_EVIL = "evil/backdoor:latest"


def _ecs(aws: Any, cluster: str, name: str) -> tuple[str | None, int | None]:
    """(image, desiredCount) of the ECS service as moto sees it."""
    rc, j, _ = aws("ecs", "describe-services", "--cluster", cluster, "--services", name)
    if rc != 0 or not (j or {}).get("services"):
        return None, None
    svc = j["services"][0]
    rc, t, _ = aws("ecs", "describe-task-definition", "--task-definition", svc.get("taskDefinition", ""))
    if rc != 0:
        return None, svc.get("desiredCount")
    image = (t["taskDefinition"].get("containerDefinitions") or [{}])[0].get("image")
    return image, svc.get("desiredCount")


def _wait_idle(a: Asgard, resource_id: str, timeout: float) -> bool:
    """Wait (as the admin: a killed project's keys stop working) until no request of the resource is queued
    or running, i.e. the suspend/resume runs are done."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        busy = [r for r in a.all_requests()
                if r.get("resource_id") == resource_id and r.get("state") in ("queued", "running")]
        if not busy:
            return True
        time.sleep(0.5)
    return False


def _kill(a: Asgard, pid: str, kill: bool) -> bool:
    st, _, raw = a.rest("POST", f"/api/projects/{pid}/{'kill' if kill else 'unkill'}",
                        {"reason": "provisioning test: issue 8 finding 1"})
    return R.check(st == 200, f"8.1: {'kill' if kill else 'unkill'} the project", fail_detail=f"{st} {raw[:300]}")


def unapproved_spec_never_applied(ctx: Any, a: Asgard, vpc: Callable) -> None:
    """8.1: the resource keeps the applied spec; suspend/resume start from it, never from a pending ask."""
    aws = ctx.aws
    pid = a.register("Kill unkill pending", classification="poc")
    m = a.mcp(a.key(pid))
    vpc_id, sa, sb = vpc(ctx)
    name = "sec-svc"
    s1 = {"image": IMAGE_OK, "vpc_id": vpc_id, "subnet_ids": [sa, sb], "desired_count": 1}
    s2 = dict(s1, image=IMAGE_EVIL, desired_count=20)
    r = m.request("ecs-service", name, s1)
    if not R.check(not r.is_error and r.data.get("state") == "pending_approval", "8.1: S1 waits for approval",
                   fail_detail=r.brief()):
        return
    a.approve(r.data["request_id"])
    d = m.wait(r.data["request_id"], 900, poll=1.0)
    if not R.check(d.get("state") == "fulfilled", "8.1: S1 (nginx, 1 task) applied", fail_detail=fmt_state(d)):
        return
    res_id = d["resource_id"]
    cluster = (d.get("outputs") or {}).get("cluster", name)
    if not (_kill(a, pid, True) and _wait_idle(a, res_id, 600) and _kill(a, pid, False)):
        return
    # S2 asked while the resume is queued or running: it waits for approval.
    u = m.request("ecs-service", name, s2)
    if not R.check(not u.is_error and u.data.get("kind") == "update" and u.data.get("state") == "pending_approval",
                   "8.1: S2 (evil image, 20 tasks) is an update waiting for approval", fail_detail=u.brief()):
        return
    R.check(_wait_idle(a, res_id, 600), "8.1: the resume finishes")
    g = m.call("get_resource", {"resource": res_id})
    R.check(not g.is_error and (g.data.get("spec") or {}).get("image") == IMAGE_OK
            and (g.data.get("pending_spec") or {}).get("image") == IMAGE_EVIL
            and g.data.get("pending_request_id") == u.data["request_id"],
            "8.1: the resource shows the applied spec, and S2 only as pending_spec", fail_detail=g.brief())
    if not (_kill(a, pid, True) and _wait_idle(a, res_id, 600) and _kill(a, pid, False)
            and _wait_idle(a, res_id, 600)):
        return
    image, count = _ecs(aws, cluster, name)
    R.check(image == IMAGE_OK and count == 1,
            "8.1: after kill, unkill, a pending S2, kill and unkill again, moto still runs S1 (nginx, 1 task)",
            fail_detail=f"moto runs image={image} desiredCount={count}")
    p = m.get_request(u.data["request_id"])
    R.check(p.data.get("state") == "pending_approval", "8.1: S2 is still waiting for approval",
            fail_detail=p.brief())
    # The check can fail: once approved, S2 does reach the cloud.
    st, _, raw = a.approve(u.data["request_id"])
    dd = m.wait(u.data["request_id"], 900, poll=1.0)
    image, count = _ecs(aws, cluster, name)
    R.check(st == 200 and dd.get("state") == "fulfilled" and image == IMAGE_EVIL and count == 20,
            "8.1: approved, S2 reaches the cloud", fail_detail=f"{st} {raw[:200]} {fmt_state(dd)} {image} {count}")
    dp = m.call("deprovision_resource", {"resource": res_id})
    # Its create needed an admin's approval, so its destroy does too.
    if approve_gated_destroy(a, dp, "8.1: cleanup"):
        dd = m.wait(dp.data["request_id"], 600, poll=1.0)
        R.check(dd.get("resource_state") == "destroyed", "8.1: cleanup: the service destroyed",
                fail_detail=fmt_state(dd))


def _committed(a: Asgard, pid: str) -> tuple[float, float]:
    st, b, _ = a.rest("GET", f"/api/projects/{pid}/cost")
    b = b or {}
    return float(b.get("committed_monthly_usd") or 0), float(b.get("budget_usd") or 0)


def budget_pending_downscale(ctx: Any, a: Asgard, vpc: Callable) -> None:
    """8.3: pending downscale, three new services, reject: committed never passes the budget."""
    vpc_id, sa, sb = vpc(ctx)
    # ecs-service: 22 USD + 9 USD per task. 20 tasks = 202, 1 task = 31; budget 250.
    pid = a.register("Pending downscale budget", classification="poc", budget_usd=250)
    m = a.mcp(a.key(pid))
    base = {"image": IMAGE_OK, "vpc_id": vpc_id, "subnet_ids": [sa, sb]}
    r = m.request("ecs-service", "big", dict(base, desired_count=20))
    if not R.check(not r.is_error, "8.3: 20-task service requested", fail_detail=r.brief()):
        return
    a.approve(r.data["request_id"])
    d = m.wait(r.data["request_id"], 900, poll=1.0)
    if not R.check(d.get("state") == "fulfilled", "8.3: 20-task service applied (202 USD)",
                   fail_detail=fmt_state(d)):
        return
    down = m.request("ecs-service", "big", dict(base, desired_count=1))
    R.check(not down.is_error and down.data.get("state") == "pending_approval",
            "8.3: the downscale to 1 task waits for approval", fail_detail=down.brief())
    peak = _committed(a, pid)[0]
    admitted, refused = [], []
    for i in range(3):
        n = m.request("ecs-service", f"small-{i}", dict(base, desired_count=1))
        (refused if n.is_error and n.code == "forbidden" else admitted).append(n)
        peak = max(peak, _committed(a, pid)[0])
    R.check(len(admitted) == 1 and len(refused) == 2,
            "8.3: with the downscale pending, only one more 31 USD service fits (202 + 31 <= 250)",
            f"{len(admitted)} admitted", "; ".join(x.brief()[:160] for x in admitted + refused))
    st, _, raw = a.rest("POST", f"/api/requests/{down.data['request_id']}/reject",
                        {"reason": "provisioning test: reject the downscale"})
    committed, budget = _committed(a, pid)
    peak = max(peak, committed)
    R.check(st == 200 and peak <= budget == 250, "8.3: the committed total never passes the budget",
            f"peak {peak} of {budget}", f"reject {st} {raw[:200]}; peak {peak} of {budget}")
    for x in admitted:
        if not x.is_error:
            a.rest("POST", f"/api/requests/{x.data['request_id']}/reject", {"reason": "provisioning test cleanup"})
    dp = m.call("deprovision_resource", {"resource": d["resource_id"]})
    if approve_gated_destroy(a, dp, "8.3: cleanup"):
        dd = m.wait(dp.data["request_id"], 600, poll=1.0)
        R.check(dd.get("resource_state") == "destroyed", "8.3: cleanup: the service destroyed",
                fail_detail=fmt_state(dd))


def _outputs(a: Asgard, pid: str, res_id: str) -> dict:
    st, b, _ = a.rest("GET", f"/api/projects/{pid}/resources/{res_id}")
    return (b or {}).get("outputs") or {} if st == 200 else {}


def kill_races(a: Asgard) -> None:
    """Review: kill and unkill in quick succession end as the project says, and suspend/resume re-apply the spec
    applied when they run (a stoppable token: a suspend sets its label to "suspended")."""
    pid = a.register("Kill races")
    m = a.mcp(a.key(pid))
    r = m.request("stoppable-token", "tok", {"label": "one"})
    d = m.wait(r.data.get("request_id", ""), 120, poll=0.2) if not r.is_error else {}
    if not R.check(d.get("state") == "fulfilled", "kill races: a stoppable token applied",
                   fail_detail=fmt_state(d) if d else r.brief()):
        return
    res = d["resource_id"]
    # Kill, unkill and kill again in one breath: whatever ran in between, it ends suspended.
    for k in (True, False, True):
        if not _kill(a, pid, k):
            return
    R.check(_wait_idle(a, res, 120) and _outputs(a, pid, res).get("label") == "suspended",
            "kill races: kill, unkill, kill in a row leaves the resource suspended",
            fail_detail=str(_outputs(a, pid, res)))
    for k in (False, True, False):
        if not _kill(a, pid, k):
            return
    R.check(_wait_idle(a, res, 120) and _outputs(a, pid, res).get("label") == "one",
            "kill races: unkill, kill, unkill in a row leaves it running with its applied label",
            fail_detail=str(_outputs(a, pid, res)))
    # An update applied after a kill was queued (the run order: update, then the suspend) is what the resume
    # brings back, not the spec applied when the suspend was queued.
    u = m.request("stoppable-token", "tok", {"label": "two"})
    ud = m.wait(u.data.get("request_id", ""), 120, poll=0.2) if not u.is_error else {}
    if not R.check(ud.get("state") == "fulfilled", "kill races: update to label two applied",
                   fail_detail=fmt_state(ud) if ud else u.brief()):
        return
    for k in (True, False):
        if not _kill(a, pid, k):
            return
    R.check(_wait_idle(a, res, 120) and _outputs(a, pid, res).get("label") == "two",
            "kill races: after kill and unkill the resource runs the last applied update",
            fail_detail=str(_outputs(a, pid, res)))


def suite_security(ctx: Any, a: Asgard, vpc: Callable) -> None:
    R.suite = "security"
    kill_races(a)
    if ctx.aws is None:
        R.bad("security: moto is needed for the ecs-service checks")
        return
    unapproved_spec_never_applied(ctx, a, vpc)
    budget_pending_downscale(ctx, a, vpc)


def suite_unarmed_replica(ctx: Any, db: str, boot: Callable) -> list[Asgard]:
    """8.6 on Postgres: an armed and an unarmed replica on one database."""
    R.suite = "security-pg"
    armed = ctx.asgard("pg-armed", db, work_dir=ctx.tmp / "tf-pg-armed")
    unarmed = ctx.asgard("pg-unarmed", db, armed=False)

    if not boot(ctx, armed):
        return [armed]
    pid = armed.register("Unarmed replica")
    key = armed.key(pid)
    ma = armed.mcp(key)
    r = ma.request("demo-token", "tok", {"label": "one"})
    d = ma.wait(r.data.get("request_id", ""), 120, poll=0.2) if not r.is_error else {}
    if not R.check(d.get("state") == "fulfilled", "8.6: the armed replica applies a demo-token",
                   fail_detail=fmt_state(d) if d else r.brief()):
        return [armed]
    ref = ((d.get("outputs") or {}).get("token") or {}).get("secret_ref")
    if not boot(ctx, unarmed):
        return [armed, unarmed]
    R.check("provisioned_resources" in unarmed.log_text(),
            "8.6: the unarmed replica warns at boot that the database holds provisioned resources",
            fail_detail=unarmed.tail(10))
    mu = unarmed.mcp(key)
    ch = mu.request("demo-token", "tok", {"label": "two"})
    R.check(ch.is_error and ch.code == "conflict", "8.6: a change through the unarmed replica is a 409 conflict",
            fail_detail=ch.brief())
    same = mu.request("demo-token", "tok", {"label": "one"})
    R.check(not same.is_error and same.data.get("idempotent") is True and same.data.get("armed") is True,
            "8.6: the same ask through the unarmed replica answers with the applied request",
            fail_detail=same.brief())
    g = ma.call("get_resource", {"resource": d["resource_id"]})
    R.check(not g.is_error and g.data.get("armed") is True and g.data.get("state") == "fulfilled"
            and (g.data.get("spec") or {}).get("label") == "one",
            "8.6: the resource is still armed, fulfilled, with its applied spec", fail_detail=g.brief())
    dp = mu.call("deprovision_resource", {"resource": d["resource_id"]})
    R.check(not dp.is_error and dp.data.get("state") in ("queued", "running")
            and dp.data.get("resource_state") == "destroying",
            "8.6: a destroy through the unarmed replica is queued for an armed one", fail_detail=dp.brief())
    dd = ma.wait(dp.data.get("request_id", ""), 120, poll=0.2) if not dp.is_error else {}
    log_text = armed.run_log(dp.data["request_id"]) if not dp.is_error else ""
    R.check(dd.get("resource_state") == "destroyed" and "destroyed" in log_text,
            "8.6: the armed replica ran terraform destroy", fail_detail=f"{fmt_state(dd)} {log_text[-300:]}")
    gone = ma.secret(ref) if ref else None
    R.check(gone is not None and gone.is_error and gone.code == "not_found",
            "8.6: the token's secret is gone from the store", fail_detail=gone.brief() if gone else "no ref")
    return [armed, unarmed]
