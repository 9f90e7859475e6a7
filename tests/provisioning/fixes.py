"""Regression checks for review findings (SQLite, real Terraform; moto for the aws services).

  3a  rejecting an *update* leaves the resource fulfilled with its applied spec, and a later deprovision
      (also one while an update waits for approval) runs `terraform destroy` once an admin approves it
      (the token's create needed an admin, so its destroy does too). It runs on a second Asgard whose
      policy sends every light-operational request to a person (GATED_CONFIG); under the default policy
      a light-operational demo-token, its change and its destroy run with no person.
  3b  two resources of different services with one name keep separate secrets: destroying one leaves the
      other's secret readable
  3f  decommissioning a project while a create is queued or running destroys it after the run (no orphan)
  3g  a newer request for a resource supersedes an older one still waiting for approval: only the newest can be approved

Each check fails on the code before its fix. 3c (equal numbers), 3e (unchanged secret versions) are in the
runner suite; 3d (failover bounded by the lease) in the faults suite.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lib import R, Asgard, approve_gated_destroy, fmt_state

# The operator's policy of a second Asgard for 3a: every light-operational request needs a person (a ceiling
# of 0), so its demo-token is approval-gated. Registration offers only poc and light-operational, and their
# default ceilings let a demo-token (0 USD) through.
GATED_CONFIG = "provisioning:\n  auto_approve:\n    light-operational: { max_resource_monthly_usd: 0 }\n"


def _reject(a: Asgard, rid: str) -> tuple[int, Any, str]:
    return a.rest("POST", f"/api/requests/{rid}/reject", {"reason": "rejected by the provisioning test"})


def light_operational_auto(a: Asgard) -> None:
    """The tier policy's defaults: at light-operational (100 USD per resource) a demo-token (0 USD), a change
    to it and its destroy all run with no person. Before the tier policy the create waited for approval."""
    pid = a.register("Light auto", classification="light-operational")
    m = a.mcp(a.key(pid))
    r = m.request("demo-token", "lt", {"label": "one"})
    if not R.check(not r.is_error and r.data.get("needs_approval") is False
                   and r.data.get("state") in ("queued", "running", "fulfilled"),
                   "3a: demo-token at light-operational runs with no person (tier policy)", fail_detail=r.brief()):
        return
    d = m.wait(r.data["request_id"], 120, poll=0.2)
    u = m.request("demo-token", "lt", {"label": "two"})
    R.check(d.get("state") == "fulfilled" and not u.is_error and u.data.get("kind") == "update"
            and u.data.get("needs_approval") is False and u.data.get("state") in ("queued", "running", "fulfilled"),
            "3a: a change to a token no person had to approve runs with no person", fail_detail=f"{fmt_state(d)} {u.brief()}")
    if not u.is_error:
        m.wait(u.data["request_id"], 120, poll=0.2)
    dp = m.call("deprovision_resource", {"resource": "lt"})
    ok = R.check(not dp.is_error and dp.data.get("kind") == "destroy"
                 and dp.data.get("state") in ("queued", "running", "fulfilled"),
                 "3a: its destroy runs with no person", fail_detail=dp.brief())
    if ok:
        dd = m.wait(dp.data["request_id"], 120, poll=0.2)
        R.check(dd.get("resource_state") == "destroyed", "3a: the light-operational token destroyed",
                fail_detail=fmt_state(dd))


def rejected_update(a: Asgard) -> None:
    """3a: a rejected update must not make the resource look like nothing exists."""
    pid = a.register("Rejected update", classification="light-operational")
    m = a.mcp(a.key(pid))
    name = "upd"
    r = m.request("demo-token", name, {"label": "one"})
    codes = [x.get("code") for x in (r.data.get("approval") or {}).get("reasons") or []]
    if not R.check(not r.is_error and r.data.get("state") == "pending_approval" and codes == ["tier_needs_approval"],
                   "3a: demo-token at light-operational waits for approval where the operator's ceiling is 0",
                   fail_detail=r.brief()):
        return
    a.approve(r.data["request_id"])
    d = m.wait(r.data["request_id"], 120, poll=0.2)
    if not R.check(d.get("state") == "fulfilled", "3a: approved create fulfilled", fail_detail=fmt_state(d)):
        return
    u = m.request("demo-token", name, {"label": "two"})
    if not R.check(not u.is_error and u.data.get("kind") == "update" and u.data.get("state") == "pending_approval",
                   "3a: changed spec is an update waiting for approval", fail_detail=u.brief()):
        return
    st, b, raw = _reject(a, u.data["request_id"])
    R.check(st == 200 and (b or {}).get("state") == "rejected", "3a: admin rejects the update",
            fail_detail=f"{st} {raw[:300]}")
    g = m.call("get_resource", {"resource": name})
    R.check(not g.is_error and g.data.get("state") == "fulfilled" and g.data.get("spec", {}).get("label") == "one"
            and (g.data.get("outputs") or {}).get("label") == "one",
            "3a: after the rejected update the resource is fulfilled with its applied spec (label one)",
            fail_detail=g.brief())
    again = m.request("demo-token", name, {"label": "one"})
    R.check(not again.is_error and again.data.get("idempotent") is True
            and again.data.get("request_id") == r.data["request_id"],
            "3a: re-requesting the applied spec is idempotent (answers with the create)", fail_detail=again.brief())
    # an update waiting for approval, then deprovision: the token exists and must be destroyed
    p = m.request("demo-token", name, {"label": "three"})
    R.check(not p.is_error and p.data.get("state") == "pending_approval", "3a: a second update waits",
            fail_detail=p.brief())
    p4 = m.request("demo-token", name, {"label": "four"})
    R.check(not p4.is_error and p4.data.get("kind") == "update",
            "3a: another change while an update waits is an update too (the resource exists)",
            fail_detail=p4.brief())
    # 3g: the newer ask supersedes the older one, so the two can never both be approved and run
    st, b, raw = a.approve(p.data["request_id"])
    old = m.get_request(p.data["request_id"])
    R.check(st == 409 and old.data.get("state") == "rejected"
            and "superseded" in (old.data.get("decision_reason") or ""),
            "3g: the older of two waiting updates is superseded and can no longer be approved",
            fail_detail=f"approve: {st} {raw[:200]}; older request: {old.brief()}")
    st, au, raw = a.rest("GET", f"/api/audit?action=resource.requested&limit=500")
    ev = [e for e in (au or {}).get("events", []) if e.get("target") == p4.data.get("request_id")]
    R.check(len(ev) == 1 and p.data["request_id"] in ((ev[0].get("data") or {}).get("superseded_requests") or []),
            "3g: the newer request's audit entry names the request it superseded",
            fail_detail=f"{st} {json.dumps(ev)[:400] if ev else raw[:300]}")
    dp = m.call("deprovision_resource", {"resource": name})
    if not approve_gated_destroy(a, dp, "3a: deprovision with an update pending"):
        return
    dd = m.wait(dp.data["request_id"], 120, poll=0.2)
    log = a.run_log(dp.data["request_id"])
    R.check(dd.get("resource_state") == "destroyed" and "2 destroyed" in log,
            "3a: terraform destroy ran (2 destroyed), nothing orphaned", fail_detail=f"{fmt_state(dd)} {log[-600:]}")
    for q in (p, p4):
        pr = m.get_request(q.data["request_id"])
        R.check(pr.data.get("state") == "rejected", "3a: the pending update was superseded (rejected)",
                fail_detail=pr.brief())


def shared_name_secrets(a: Asgard) -> None:
    """3b: secrets are per (service, resource), not per resource name."""
    pid = a.register("Shared name")
    m = a.mcp(a.key(pid))
    t0 = time.monotonic()
    r1 = m.request("demo-token", "app", {"label": "x"})
    r2 = m.request("secretsmanager-secret", "app", {"name": "app"})
    if not R.check(not r1.is_error and not r2.is_error, "3b: demo-token and secretsmanager-secret both named app",
                   fail_detail=f"{r1.brief()} {r2.brief()}"):
        return
    d1 = m.wait(r1.data["request_id"], 120, poll=0.3)
    d2 = m.wait(r2.data["request_id"], 300, poll=0.5)
    if not R.check(d1.get("state") == "fulfilled" and d2.get("state") == "fulfilled", "3b: both fulfilled",
                   f"{time.monotonic() - t0:.1f}s", f"{fmt_state(d1)} / {fmt_state(d2)}"):
        return
    ref1 = (d1.get("outputs") or {}).get("token", {}).get("secret_ref")
    ref2 = (d2.get("outputs") or {}).get("value", {}).get("secret_ref")
    R.check(ref1 == f"asgard://secrets/{pid}/demo-token/app/token"
            and ref2 == f"asgard://secrets/{pid}/secretsmanager-secret/app/value",
            "3b: secret refs name the service", f"{ref1} {ref2}")
    before = m.secret(ref2) if ref2 else None
    dp = m.call("deprovision_resource", {"resource": r1.data["resource_id"]})
    if R.check(not dp.is_error, "3b: deprovision the demo-token app", fail_detail=dp.brief()):
        dd = m.wait(dp.data["request_id"], 120, poll=0.3)
        R.check(dd.get("resource_state") == "destroyed", "3b: demo-token app destroyed", fail_detail=fmt_state(dd))
    after = m.secret(ref2) if ref2 else None
    R.check(before is not None and after is not None and not after.is_error
            and after.data.get("value") == before.data.get("value") and len(after.data.get("value") or "") > 0,
            "3b: the secretsmanager app's secret survives the other app's destroy",
            fail_detail=after.brief() if after else "no ref")
    gone = m.secret(ref1) if ref1 else None
    R.check(gone is not None and gone.is_error and gone.code == "not_found",
            "3b: the destroyed demo-token's secret is gone", fail_detail=gone.brief() if gone else "no ref")
    ls = m.call("list_secrets", {})
    R.check(not ls.is_error and [x.get("secret_ref") for x in ls.data.get("secrets", [])] == [ref2],
            "3b: list_secrets lists the remaining secret by its ref", fail_detail=ls.brief())
    m.call("deprovision_resource", {"resource": r2.data["resource_id"]})


def decommission_in_flight(a: Asgard, aws: Any) -> None:
    """3f: a create queued/running at decommission time is destroyed after its run, not orphaned."""
    pid = a.register("Decommission in flight")
    m = a.mcp(a.key(pid))
    repo = "dec-repo"
    r = m.request("ecr-repository", repo, {"name": repo})
    if not R.check(not r.is_error and r.data.get("state") in ("queued", "running"), "3f: ecr create queued",
                   fail_detail=r.brief()):
        return
    time.sleep(0.5)
    state = m.get_request(r.data["request_id"]).data.get("state")
    st, b, raw = a.rest("POST", f"/api/projects/{pid}/decommission",
                        {"confirm": pid, "reason": "provisioning test: decommission while a run is in flight"})
    if not R.check(st == 200 and len((b or {}).get("destroy_requests") or []) == 1,
                   "3f: decommission while the create is in flight queues its destroy",
                   f"create was {state}", f"{st} {raw[:400]}"):
        return
    did = b["destroy_requests"][0]
    # The project's keys are revoked by the decommission: follow the requests as the admin.
    dd: dict = {}
    end = time.monotonic() + 300
    while did and time.monotonic() < end:
        st, dd, _ = a.rest("GET", f"/api/requests/{did}")
        dd = dd or {}
        if dd.get("state") in ("fulfilled", "failed", "rejected"):
            break
        time.sleep(0.5)
    cr = (a.rest("GET", f"/api/requests/{r.data['request_id']}")[1]) or {}
    rc, j, _ = aws("ecr", "describe-repositories", "--repository-names", repo)
    R.check(dd.get("resource_state") == "destroyed" and rc != 0,
            "3f: the resource ends destroyed and the repository is gone from the cloud",
            f"create ended {cr.get('state')}", f"destroy {fmt_state(dd)}, repository exists: {rc == 0}")


def suite_fixes(ctx: Any, a: Asgard) -> None:
    R.suite = "fixes"
    light_operational_auto(a)
    g = ctx.asgard("fixes-gated", ctx.sqlite_url("fixes-gated"), config_extra=GATED_CONFIG)
    if R.check(g.start(), "3a: an Asgard whose light-operational ceiling is 0 boots", fail_detail=g.tail(20)):
        try:
            rejected_update(g)
        finally:
            R.check(g.stop() == 0, "3a: that Asgard stops cleanly on SIGTERM")
    shared_name_secrets(a)
    if ctx.aws is not None:
        decommission_in_flight(a, ctx.aws)
