"""ecs-service grants confined to the project (issue 8, finding 2), with real Terraform runs against moto.

Every project shares one AWS account, so a grant may name only ARNs Asgard recorded as outputs of the
requesting project's resources, or an exact ARN on the operator's `provisioning.grant_allowlist` (the main
SQLite Asgard boots with SHARED_KMS on it, see CONFIG). Two projects each create a `secretsmanager-secret`;
Asgard's own boot secret is created in moto with the aws CLI. Project A's `ecs-service` request is refused
(`invalid_argument` on the exact field) when a grant names B's secret, a wildcard, another account's secret or
the boot secret; it is accepted with its own secret and KMS key plus the allowlisted key, which the request
record and the `resource.requested` audit entry name. The accepted request is withdrawn before approval:
the selfdeploy suite applies an ecs-service with grants.
"""

from __future__ import annotations

import json
import secrets as pysecrets
from typing import Any

from lib import R, Asgard, fmt_state

SHARED_KMS = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-0000000000aa"
# Appended to the main SQLite Asgard's asgard.yaml.
CONFIG = f'provisioning:\n  grant_allowlist: ["{SHARED_KMS}"]\n'


def _refused(r: Any, field: str, name: str) -> bool:
    ok = r.is_error and r.code == "invalid_argument" and r.data.get("field") == field
    return R.check(ok, name, field, r.brief())


def suite_grants(ctx: Any, a: Asgard, net: tuple[str, str, str]) -> None:
    R.suite = "grants"
    aws = ctx.aws
    assert aws
    R.check(SHARED_KMS in a.log_text() and "grant_allowlist" in a.log_text(),
            "the operator's grant allowlist is logged at boot", fail_detail=a.tail(10))
    pa, pb = a.register("Grants A"), a.register("Grants B")
    ma, mb = a.mcp(a.key(pa)), a.mcp(a.key(pb))
    outs: dict[str, dict] = {}
    for m, name in ((ma, "grants-a"), (mb, "grants-b")):
        r = m.request("secretsmanager-secret", name, {})
        if not R.check(not r.is_error, f"secretsmanager-secret {name} accepted", fail_detail=r.brief()):
            return
        d = m.wait(r.data["request_id"], 300, poll=0.5)
        if not R.check(d.get("state") == "fulfilled", f"secretsmanager-secret {name} fulfilled",
                       fail_detail=fmt_state(d)):
            return
        outs[name] = d.get("outputs") or {}
    a_secret, a_kms = outs["grants-a"].get("secret_arn", ""), outs["grants-a"].get("kms_key_arn", "")
    b_secret = outs["grants-b"].get("secret_arn", "")
    rc, j, err = aws("secretsmanager", "create-secret", "--name", "asgard/boot-secret-key",
                     "--secret-string", pysecrets.token_hex(32))
    if not R.check(rc == 0 and (j or {}).get("ARN"), "Asgard's boot secret created in moto", fail_detail=err):
        return
    boot_secret = j["ARN"]
    other_account = a_secret.replace(":123456789012:", ":210987654321:")

    vpc_id, sa, sb = net

    def ecs(grants: dict, secrets: dict | None = None) -> dict:
        return {"image": "public.ecr.aws/nginx/nginx:1.27", "vpc_id": vpc_id, "subnet_ids": [sa, sb],
                "desired_count": 1, "grants": grants, "secrets": secrets or {}}

    for spec, field, name in (
        (ecs({"secrets_read": [a_secret, b_secret]}), "spec.grants.secrets_read[1]",
         "another project's secret ARN refused"),
        (ecs({"secrets_read": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:*"]}),
         "spec.grants.secrets_read[0]", "a * wildcard refused"),
        (ecs({"secrets_read": [other_account]}), "spec.grants.secrets_read[0]", "another account's ARN refused"),
        (ecs({"secrets_read": [boot_secret]}), "spec.grants.secrets_read[0]", "Asgard's own boot secret refused"),
        (ecs({}, {"DB": f"{b_secret}:url::"}), "spec.secrets.DB", "another project's secret in `secrets` refused"),
        (ecs({"kms_decrypt": [a_kms, "arn:aws:kms:us-east-1:123456789012:key/*"]}),
         "spec.grants.kms_decrypt[1]", "a KMS wildcard refused"),
    ):
        _refused(ma.request("ecs-service", "grants-svc", spec), field, name)
    lr = ma.call("list_resources", {})
    R.check(not lr.is_error and all(x.get("name") != "grants-svc" for x in lr.data.get("resources", [])),
            "refused requests created no resource", fail_detail=lr.brief())

    r = ma.request("ecs-service", "grants-svc",
                   ecs({"secrets_read": [a_secret], "kms_decrypt": [a_kms, SHARED_KMS]}, {"KEY": a_secret}))
    if not R.check(not r.is_error and r.data.get("state") == "pending_approval",
                   "the project's own secret and KMS key (plus the allowlisted key) are accepted",
                   fail_detail=r.brief()):
        return
    rid = r.data["request_id"]
    R.check(r.data.get("allowlisted_grants") == [SHARED_KMS], "the request names the allowlisted grant",
            json.dumps(r.data.get("allowlisted_grants")), r.brief())
    st, b, raw = a.rest("GET", f"/api/requests?state=pending_approval&project={pa}")
    row = [x for x in (b or {}).get("requests", []) if x.get("request_id") == rid]
    R.check(st == 200 and len(row) == 1 and row[0].get("allowlisted_grants") == [SHARED_KMS],
            "the approvals inbox shows the allowlisted grant", fail_detail=f"{st} {raw[:400]}")
    st, b, raw = a.rest("GET", f"/api/audit?action=resource.requested&project={pa}&limit=100")
    ev = [e for e in (b or {}).get("events", []) if e.get("target") == rid]
    R.check(len(ev) == 1 and (ev[0].get("data") or {}).get("allowlisted_grants") == [SHARED_KMS],
            "the resource.requested audit entry records the allowlisted grant", fail_detail=f"{st} {raw[:400]}")
    rb = mb.request("ecs-service", "grants-svc", ecs({"secrets_read": [a_secret]}))
    _refused(rb, "spec.grants.secrets_read[0]", "project B cannot grant project A's secret")
    # The grants are checked again at approval: once the secret they name is destroyed, approving is refused.
    ds = ma.call("deprovision_resource", {"resource": "grants-a", "service": "secretsmanager-secret",
                                          "confirm": True})
    dd = ma.wait(ds.data.get("request_id", ""), 300, poll=0.5) if not ds.is_error else {}
    if R.check(dd.get("resource_state") == "destroyed", "project A's secret destroyed while the request waits",
               fail_detail=fmt_state(dd) if dd else ds.brief()):
        st, b, raw = a.approve(rid)
        g = ma.get_request(rid)
        R.check(st == 409 and (b or {}).get("error", {}).get("code") == "conflict"
                and g.data.get("state") == "pending_approval",
                "approving a request whose granted secret is gone is refused (409), the request still waits",
                fail_detail=f"{st} {raw[:300]} {g.brief()}")
    dp = ma.call("deprovision_resource", {"resource": "grants-svc"})
    R.check(not dp.is_error and dp.data.get("resource_state") == "destroyed",
            "the accepted request is withdrawn before approval (nothing applied)", fail_detail=dp.brief())
