//! The service catalog: manifests embedded from `services/`,
//! extended or overridden by `provisioning.services_dir`. A bad manifest
//! refuses the boot with its file and field. Manifests are data; nothing
//! here runs Terraform.

pub mod schema;
pub mod scoped;

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::governance::Classification;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/services");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    #[serde(default)]
    pub secret: bool,
    /// The ARN of a cloud object the module itself creates (never a value
    /// echoed from an input): the only outputs a project-scoped grant may
    /// name.
    #[serde(default)]
    pub arn: bool,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub cloud: String,
    pub module: String,
    pub inputs: Value,
    #[serde(default)]
    pub locked: Vec<String>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputSpec>,
    #[serde(default)]
    pub auto_approvable: bool,
    #[serde(default = "poc")]
    pub classification_min: Classification,
    #[serde(default = "critical")]
    pub classification_max: Classification,
    #[serde(default)]
    pub estimate_monthly_usd: f64,
    #[serde(default)]
    pub pricing: BTreeMap<String, f64>,
    #[serde(default)]
    pub stop_vars: serde_json::Map<String, Value>,
    #[serde(default)]
    pub data_bearing: bool,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Inputs (dotted paths) whose ARNs must belong to the requesting
    /// project; see `scoped` and `provisioning::grants`.
    #[serde(default)]
    pub project_scoped_arns: Vec<String>,
    /// Exact ARNs those inputs may name besides the project's own, for this
    /// service only (the config's `provisioning.grant_allowlist` adds more).
    #[serde(default)]
    pub grant_allowlist: Vec<String>,
}

fn poc() -> Classification {
    Classification::Poc
}
fn critical() -> Classification {
    Classification::CriticalPath
}
fn default_timeout() -> u64 {
    1800
}

impl Manifest {
    fn check(&self, file: &str) -> Result<(), String> {
        let bad = |m: String| Err(format!("{file}: {m}"));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return bad(format!(
                "id `{}` must be lower-case letters, digits and -",
                self.id
            ));
        }
        if self
            .module
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || self.module.starts_with('/')
        {
            return bad(format!(
                "module `{}` must be a relative path like aws/ecr-repository",
                self.module
            ));
        }
        schema::check_schema("inputs", &self.inputs).or_else(&bad)?;
        if self.inputs.get("type") != Some(&json!("object")) {
            return bad("inputs.type must be \"object\"".into());
        }
        let props = self.inputs.get("properties").and_then(Value::as_object);
        for l in &self.locked {
            if !props.is_some_and(|p| p.contains_key(l)) {
                return bad(format!("locked input `{l}` is not among the inputs"));
            }
        }
        if self.classification_min > self.classification_max {
            return bad("classification_min is above classification_max".into());
        }
        if !(self.estimate_monthly_usd.is_finite() && self.estimate_monthly_usd >= 0.0) {
            return bad("estimate_monthly_usd must be a non-negative number".into());
        }
        if self.timeout_secs == 0 {
            return bad("timeout_secs must be positive".into());
        }
        scoped::check_paths(&self.inputs, &self.project_scoped_arns).or_else(&bad)?;
        for (i, arn) in self.grant_allowlist.iter().enumerate() {
            if let Some(why) = scoped::arn_problem(arn) {
                return bad(format!("grant_allowlist[{i}] `{arn}` {why}"));
            }
        }
        Ok(())
    }

    /// Monthly estimate for a given (validated) spec: base plus per-input adders.
    pub fn estimate_cents(&self, spec: &Value) -> i64 {
        let mut usd = self.estimate_monthly_usd;
        for (input, per_unit) in &self.pricing {
            let units = spec.get(input).and_then(Value::as_f64).unwrap_or(0.0);
            usd += per_unit * units;
        }
        (usd * 100.0).round() as i64
    }

    pub fn stoppable(&self) -> bool {
        !self.stop_vars.is_empty()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "category": self.category, "description": self.description,
            "cloud": self.cloud, "inputs": self.inputs, "locked_inputs": self.locked,
            "outputs": self.outputs, "auto_approvable": self.auto_approvable,
            "classification_min": self.classification_min.as_str(), "classification_max": self.classification_max.as_str(),
            "estimate_monthly_usd": self.estimate_monthly_usd, "pricing": self.pricing,
            "stoppable": self.stoppable(), "data_bearing": self.data_bearing, "timeout_secs": self.timeout_secs,
            "project_scoped_arns": self.project_scoped_arns, "grant_allowlist": self.grant_allowlist,
        })
    }

    pub fn summary_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "category": self.category, "description": self.description,
            "cloud": self.cloud, "auto_approvable": self.auto_approvable,
            "classification_min": self.classification_min.as_str(), "classification_max": self.classification_max.as_str(),
            "estimate_monthly_usd": self.estimate_monthly_usd, "data_bearing": self.data_bearing,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    services: BTreeMap<String, Manifest>,
}

fn parse(text: &str, file: &str) -> Result<Manifest, String> {
    let de = serde_yaml::Deserializer::from_str(text);
    let m: Manifest = serde_path_to_error::deserialize(de)
        .map_err(|e| format!("{file}: {}: {}", e.path(), e.inner()))?;
    m.check(file)?;
    Ok(m)
}

impl Catalog {
    /// The embedded catalog plus `overrides` (same id replaces).
    pub fn load(overrides: Option<&Path>) -> Result<Catalog, String> {
        let mut services = BTreeMap::new();
        for dir in EMBEDDED.dirs() {
            if let Some(file) = dir.get_file(dir.path().join("service.yaml")) {
                let name = format!("services/{}", file.path().display());
                let m = parse(
                    file.contents_utf8().ok_or(format!("{name}: not UTF-8"))?,
                    &name,
                )?;
                services.insert(m.id.clone(), m);
            }
        }
        if let Some(dir) = overrides {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("provisioning.services_dir {}: {e}", dir.display()))?;
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                let file = if p.is_dir() {
                    p.join("service.yaml")
                } else {
                    p.clone()
                };
                let is_yaml = file.extension().is_some_and(|x| x == "yaml" || x == "yml");
                if !file.is_file() || !is_yaml {
                    continue;
                }
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                let m = parse(&text, &file.display().to_string())?;
                services.insert(m.id.clone(), m);
            }
        }
        Ok(Catalog { services })
    }

    pub fn get(&self, id: &str) -> Option<&Manifest> {
        self.services.get(id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Manifest> {
        self.services.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_loads_and_is_complete() {
        let c = Catalog::load(None).unwrap();
        for id in [
            "ecr-repository",
            "secretsmanager-secret",
            "rds-postgres",
            "ecs-service",
            "s3-bucket",
            "auth0-application",
            "demo-token",
        ] {
            assert!(c.get(id).is_some(), "missing {id}");
        }
        assert_eq!(
            c.get("ecs-service").unwrap().project_scoped_arns,
            [
                "grants.secrets_read",
                "grants.kms_decrypt",
                "grants.s3_read",
                "grants.s3_write",
                "secrets"
            ]
        );
    }

    #[test]
    fn override_dir_replaces_and_bad_manifest_names_file() {
        let dir = std::env::temp_dir().join(format!("asgard-svc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("demo-token")).unwrap();
        let text = "id: demo-token\nname: Overridden\ncategory: demo\ndescription: d\ncloud: none\nmodule: demo/token\ninputs: {type: object, additionalProperties: false, properties: {}}\n";
        std::fs::write(dir.join("demo-token/service.yaml"), text).unwrap();
        let c = Catalog::load(Some(&dir)).unwrap();
        assert_eq!(c.get("demo-token").unwrap().name, "Overridden");
        // project_scoped_arns must name string inputs; allowlists hold exact ARNs
        let base = "id: scoped\nname: S\ncategory: demo\ndescription: d\ncloud: none\nmodule: demo/token\ninputs: {type: object, properties: {keys: {type: array, items: {type: string}}, n: {type: integer}}}\n";
        std::fs::write(
            dir.join("scoped.yaml"),
            format!(
                "{base}project_scoped_arns: [keys]\ngrant_allowlist: [\"arn:aws:s3:::shared\"]\n"
            ),
        )
        .unwrap();
        let c = Catalog::load(Some(&dir)).unwrap();
        assert_eq!(c.get("scoped").unwrap().project_scoped_arns, vec!["keys"]);
        for (extra, want) in [
            ("project_scoped_arns: [n]", "project_scoped_arns[0]"),
            ("project_scoped_arns: [nope]", "project_scoped_arns[0]"),
            (
                "grant_allowlist: [\"arn:aws:s3:::*\"]",
                "grant_allowlist[0]",
            ),
        ] {
            std::fs::write(dir.join("scoped.yaml"), format!("{base}{extra}\n")).unwrap();
            let e = Catalog::load(Some(&dir)).unwrap_err();
            assert!(e.contains("scoped.yaml") && e.contains(want), "{e}");
        }
        std::fs::remove_file(dir.join("scoped.yaml")).unwrap();
        std::fs::write(dir.join("bad.yaml"), "id: x\nname: y\n").unwrap();
        let e = Catalog::load(Some(&dir)).unwrap_err();
        assert!(e.contains("bad.yaml"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
