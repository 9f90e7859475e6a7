//! Grants confined to the project. Every project shares one cloud account,
//! so an input that hands out access by ARN (an `ecs-service` task role's
//! `grants`, its `secrets`) could otherwise reach any project's secrets, or
//! Asgard's own boot secrets. A manifest lists such inputs in
//! `project_scoped_arns`; each value there must be an ARN that Asgard
//! recorded as an output of one of the requesting project's resources, or
//! one an operator put on a grant allowlist (`provisioning.grant_allowlist`,
//! or the manifest's `grant_allowlist`). Anything else, wildcards included,
//! is refused on its exact field.
//!
//! `asgard://` secret_refs are not accepted in these inputs: they name
//! values in Asgard's own store, not cloud resources, and the ARN outputs
//! the project may use are already on its resources (`list_resources`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::view::RequestView;
use crate::catalog::{Catalog, Manifest, scoped};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::provisioning::Provisioner;
use crate::store::Tx;

const WIDEN: &str = "to use a resource no project owns (a shared KMS key, say), an operator adds its exact ARN to provisioning.grant_allowlist in asgard.yaml";

/// Whether `value` is one of `arns`, or a Secrets Manager secret ARN of
/// them followed by its `:json-key:version-stage:version-id` qualifier
/// (which still names the same secret). Only a whole secret ARN (seven
/// `:`-separated parts) takes a qualifier, so no prefix of an ARN can stand
/// for everything that starts with it.
fn covered(value: &str, arns: &BTreeSet<String>) -> bool {
    arns.contains(value)
        || arns.iter().any(|a| {
            let parts: Vec<&str> = a.split(':').collect();
            parts.len() == 7
                && parts[2] == "secretsmanager"
                && parts[5] == "secret"
                && value
                    .strip_prefix(a.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
        })
}

/// The ARNs among a resource's recorded outputs (JSON text): only the
/// outputs its manifest declares `arn: true` (objects the module creates,
/// never an input echoed back, which anyone could set to another project's
/// ARN), and only values shaped as exact ARNs. Secret outputs are
/// `{"secret_ref": …}` and never count.
pub fn arns_in_outputs(m: &Manifest, outputs_json: &str, into: &mut BTreeSet<String>) {
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(outputs_json) else {
        return;
    };
    for (name, v) in &o {
        if !m
            .outputs
            .get(name)
            .is_some_and(|spec| spec.arn && !spec.secret)
        {
            continue;
        }
        let items = match v {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        into.extend(
            items
                .into_iter()
                .filter_map(Value::as_str)
                .filter(|s| scoped::arn_problem(s).is_none())
                .map(str::to_string),
        );
    }
}

/// The ARNs recorded as outputs of the project's resources that still
/// exist (a destroyed resource's outputs are cleared, and its name may
/// since belong to another project).
pub async fn project_arns(
    tx: &mut Tx,
    catalog: &Catalog,
    project: &str,
) -> Result<BTreeSet<String>> {
    let rows: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT service, outputs FROM resources WHERE project_id = $1 AND state <> 'destroyed'"
    )
    .bind(project)
    .fetch_all(&mut *c)
    .await)?;
    let mut set = BTreeSet::new();
    for (service, outputs) in &rows {
        if let Some(m) = catalog.get(service) {
            arns_in_outputs(m, outputs, &mut set);
        }
    }
    Ok(set)
}

fn refusal(field: String, value: &str, mine: &BTreeSet<String>) -> Error {
    if value.contains(['*', '?']) {
        return Error::invalid_hint(
            field,
            "is a wildcard: a grant names exactly one resource",
            format!(
                "list each ARN: the outputs of this project's resources (list_resources shows them); {WIDEN}"
            ),
        );
    }
    // Offer the project's own ARNs of the same kind (secretsmanager, kms, s3…).
    let kind = value.split(':').nth(2).unwrap_or_default();
    let same: Vec<&str> = mine
        .iter()
        .filter(|a| a.split(':').nth(2) == Some(kind))
        .take(5)
        .map(String::as_str)
        .collect();
    let own = if same.is_empty() {
        "this project has no such resource yet: request it first, then use its ARN output"
            .to_string()
    } else {
        format!("this project's own: {}", same.join(", "))
    };
    Error::invalid_hint(
        field,
        "is not a resource of this project: only ARNs recorded as outputs of the project's resources, or on the operator's grant allowlist, are accepted",
        format!("{own}; {WIDEN}"),
    )
}

/// Check the manifest's project-scoped inputs of a validated spec. Returns
/// the values accepted because they are on an allowlist (for the audit and
/// the approver), in the order they appear.
pub fn check(
    m: &Manifest,
    spec: &Value,
    mine: &BTreeSet<String>,
    allowlist: &[String],
) -> Result<Vec<String>> {
    let allowed: BTreeSet<String> = allowlist
        .iter()
        .chain(&m.grant_allowlist)
        .cloned()
        .collect();
    let mut used = Vec::new();
    for path in &m.project_scoped_arns {
        for (field, value) in scoped::values_at(spec, path) {
            if value.contains(['*', '?']) {
                return Err(refusal(field, value, mine));
            }
            let listed = covered(value, &allowed);
            if !listed && !covered(value, mine) {
                return Err(refusal(field, value, mine));
            }
            if listed && !used.iter().any(|u| u == value) {
                used.push(value.to_string());
            }
        }
    }
    Ok(used)
}

/// The request path's one call: load the project's ARNs (only when the
/// service has project-scoped inputs) and check the spec against them.
pub async fn enforce(
    tx: &mut Tx,
    catalog: &Catalog,
    m: &Manifest,
    project: &str,
    spec: &Value,
    allowlist: &[String],
) -> Result<Vec<String>> {
    if m.project_scoped_arns.is_empty() {
        return Ok(vec![]);
    }
    let mine = project_arns(tx, catalog, project).await?;
    check(m, spec, &mine, allowlist)
}

/// The allowlisted ARNs among a spec's project-scoped inputs, for `service`
/// (or, when a record does not say, any service's).
pub fn allowlisted_in(
    catalog: &Catalog,
    allowlist: &[String],
    service: Option<&str>,
    spec: &Value,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in catalog.all().filter(|m| service.is_none_or(|s| s == m.id)) {
        let allowed: BTreeSet<String> = allowlist
            .iter()
            .chain(&m.grant_allowlist)
            .cloned()
            .collect();
        for path in &m.project_scoped_arns {
            for (_, v) in scoped::values_at(spec, path) {
                if covered(v, &allowed) && !out.iter().any(|o| o == v) {
                    out.push(v.to_string());
                }
            }
        }
    }
    out
}

/// Add `allowlisted_grants` to a request's answer (from its `spec`, and its
/// service when the answer carries its resource), so an approver sees which
/// grants reach beyond the project.
pub fn annotate(pv: Provisioner<'_>, v: &mut RequestView) {
    v.allowlisted_grants = Some(allowlisted_in(
        pv.catalog,
        &pv.config.file.provisioning.grant_allowlist,
        v.resource.as_ref().map(|r| r.service.as_str()),
        &v.spec.clone().map_or(Value::Null, Value::Object),
    ));
}

/// Log every grant allowlist at boot, so that widening shows in the logs.
pub fn log_allowlists(config: &Config, catalog: &Catalog) {
    let cfg = &config.file.provisioning.grant_allowlist;
    if !cfg.is_empty() {
        tracing::info!(
            arns = %cfg.join(", "),
            "provisioning.grant_allowlist: project-scoped inputs (ecs-service grants and secrets) may also name these ARNs, which no project owns"
        );
    }
    for m in catalog.all().filter(|m| !m.grant_allowlist.is_empty()) {
        tracing::info!(
            service = %m.id,
            arns = %m.grant_allowlist.join(", "),
            "service grant_allowlist: this service's project-scoped inputs may also name these ARNs"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OWN_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key-AbCdEf";
    const OWN_DB: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:asgard-db-connection-XyZ123";
    const OWN_KMS: &str =
        "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    const OWN_BUCKET: &str = "arn:aws:s3:::data-123456789012";
    const SHARED_KMS: &str =
        "arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555";
    const OTHER_SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-db-QwErTy";
    const BOOT_SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:asgard/secret-key-ZxCvBn";

    fn ecs() -> Manifest {
        Catalog::load(None)
            .unwrap()
            .get("ecs-service")
            .unwrap()
            .clone()
    }

    fn manifest(id: &str) -> Manifest {
        Catalog::load(None).unwrap().get(id).unwrap().clone()
    }

    fn mine() -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        arns_in_outputs(
            &manifest("secretsmanager-secret"),
            &json!({"secret_arn": OWN_SECRET, "kms_key_arn": OWN_KMS, "kms_key_id": "1111",
                    "value": {"secret_ref": "asgard://secrets/p/secretsmanager-secret/app-key/value"}})
            .to_string(),
            &mut s,
        );
        arns_in_outputs(
            &manifest("rds-postgres"),
            &json!({"secret_arn": OWN_DB, "password": {"secret_ref": "asgard://secrets/p/x"}})
                .to_string(),
            &mut s,
        );
        arns_in_outputs(
            &manifest("s3-bucket"),
            &json!({"bucket_arn": OWN_BUCKET}).to_string(),
            &mut s,
        );
        s
    }

    /// An output that echoes an input (demo-token's `label`) is not an ARN
    /// the project owns, whatever it says: counting it let a label of
    /// `arn:aws` cover every ARN in the account.
    #[test]
    fn echoed_inputs_never_widen_grants() {
        let mut s = BTreeSet::new();
        for label in ["arn:aws", OTHER_SECRET, BOOT_SECRET] {
            arns_in_outputs(
                &manifest("demo-token"),
                &json!({"label": label, "id": label}).to_string(),
                &mut s,
            );
        }
        assert!(s.is_empty(), "{s:?}");
        // Nor does a prefix of an ARN cover what starts with it: only a
        // whole secret ARN takes a `:` qualifier.
        let prefix: BTreeSet<String> = ["arn:aws".to_string()].into();
        assert!(!covered(BOOT_SECRET, &prefix));
        let kms: BTreeSet<String> = [OWN_KMS.to_string()].into();
        assert!(!covered(&format!("{OWN_KMS}:x"), &kms));
        let secret: BTreeSet<String> = [OWN_SECRET.to_string()].into();
        assert!(covered(&format!("{OWN_SECRET}:password::"), &secret));
    }

    fn run(spec: Value, allowlist: &[&str]) -> std::result::Result<Vec<String>, String> {
        let allow: Vec<String> = allowlist.iter().map(|s| s.to_string()).collect();
        check(&ecs(), &spec, &mine(), &allow).map_err(|e| {
            assert_eq!(e.code(), "invalid_request", "{e:?}");
            assert!(!e.hint().is_empty());
            e.field().unwrap().to_string()
        })
    }

    #[test]
    fn outputs_yield_arns_but_never_secret_refs() {
        let s = mine();
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(s.iter().all(|a| a.starts_with("arn:")));
    }

    #[test]
    fn accepted_specs() {
        for (spec, allow, want) in [
            (json!({}), vec![], vec![]),
            (
                json!({"grants": {"secrets_read": [OWN_DB, OWN_SECRET], "kms_decrypt": [OWN_KMS]}}),
                vec![],
                vec![],
            ),
            (
                json!({"grants": {"s3_read": [OWN_BUCKET], "s3_write": [OWN_BUCKET]}}),
                vec![],
                vec![],
            ),
            // ECS's ARN:json-key:stage:version names the same secret
            (
                json!({"secrets": {"DATABASE_URL": format!("{OWN_DB}:url::"), "KEY": OWN_SECRET}}),
                vec![],
                vec![],
            ),
            // the operator's allowlist widens it, and says so
            (
                json!({"grants": {"secrets_read": [OWN_SECRET], "kms_decrypt": [OWN_KMS, SHARED_KMS]}}),
                vec![SHARED_KMS],
                vec![SHARED_KMS.to_string()],
            ),
            // plain env values are not grants
            (json!({"env": {"OTHER": OTHER_SECRET}}), vec![], vec![]),
        ] {
            assert_eq!(run(spec.clone(), &allow), Ok(want), "{spec}");
        }
    }

    #[test]
    fn refused_specs_name_the_field() {
        let other_acct = "arn:aws:secretsmanager:us-east-1:999999999999:secret:app-key-AbCdEf";
        for (spec, field) in [
            (
                json!({"grants": {"secrets_read": [OWN_SECRET, OTHER_SECRET]}}),
                "spec.grants.secrets_read[1]",
            ),
            (
                json!({"grants": {"secrets_read": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:*"]}}),
                "spec.grants.secrets_read[0]",
            ),
            (
                json!({"grants": {"secrets_read": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key-*"]}}),
                "spec.grants.secrets_read[0]",
            ),
            (
                json!({"grants": {"secrets_read": [other_acct]}}),
                "spec.grants.secrets_read[0]",
            ),
            (
                json!({"grants": {"secrets_read": [BOOT_SECRET]}}),
                "spec.grants.secrets_read[0]",
            ),
            // a longer name that merely starts with the project's ARN
            (
                json!({"grants": {"secrets_read": [format!("{OWN_SECRET}-evil")]}}),
                "spec.grants.secrets_read[0]",
            ),
            // the secret's name without its random suffix is another ARN
            (
                json!({"grants": {"secrets_read": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key"]}}),
                "spec.grants.secrets_read[0]",
            ),
            (
                json!({"grants": {"kms_decrypt": [SHARED_KMS]}}),
                "spec.grants.kms_decrypt[0]",
            ),
            (
                json!({"grants": {"kms_decrypt": ["arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager"]}}),
                "spec.grants.kms_decrypt[0]",
            ),
            (
                json!({"grants": {"s3_read": ["arn:aws:s3:::other-bucket"]}}),
                "spec.grants.s3_read[0]",
            ),
            (
                json!({"grants": {"s3_write": [OWN_BUCKET, "arn:aws:s3:::asgard-state"]}}),
                "spec.grants.s3_write[1]",
            ),
            (
                json!({"secrets": {"A": OWN_SECRET, "DB": format!("{OTHER_SECRET}:url::")}}),
                "spec.secrets.DB",
            ),
            (json!({"secrets": {"X": BOOT_SECRET}}), "spec.secrets.X"),
        ] {
            assert_eq!(run(spec.clone(), &[]), Err(field.to_string()), "{spec}");
        }
        // an allowlist never makes a wildcard acceptable
        assert_eq!(
            run(
                json!({"grants": {"kms_decrypt": ["arn:aws:kms:us-east-1:123456789012:key/*"]}}),
                &["arn:aws:kms:us-east-1:123456789012:key/*"]
            ),
            Err("spec.grants.kms_decrypt[0]".to_string())
        );
    }

    #[test]
    fn hint_offers_the_projects_own_arns_of_that_kind() {
        let e = check(
            &ecs(),
            &json!({"grants": {"kms_decrypt": [SHARED_KMS]}}),
            &mine(),
            &[],
        )
        .unwrap_err();
        assert!(e.hint().contains(OWN_KMS), "{}", e.hint());
        assert!(!e.hint().contains(OWN_SECRET), "{}", e.hint());
        assert!(e.hint().contains("provisioning.grant_allowlist"));
    }

    #[test]
    fn manifest_allowlist_applies_to_its_service_only() {
        let mut m = ecs();
        m.grant_allowlist = vec![SHARED_KMS.to_string()];
        let spec = json!({"grants": {"kms_decrypt": [SHARED_KMS]}});
        assert_eq!(
            check(&m, &spec, &BTreeSet::new(), &[]).unwrap(),
            vec![SHARED_KMS.to_string()]
        );
        let c = Catalog::load(None).unwrap();
        let allow = vec![SHARED_KMS.to_string()];
        assert_eq!(
            allowlisted_in(&c, &allow, Some("ecs-service"), &spec),
            vec![SHARED_KMS.to_string()]
        );
        assert_eq!(
            allowlisted_in(&c, &allow, None, &spec),
            vec![SHARED_KMS.to_string()]
        );
        assert!(allowlisted_in(&c, &allow, Some("demo-token"), &spec).is_empty());
        assert!(allowlisted_in(&c, &[], None, &spec).is_empty());
    }
}
