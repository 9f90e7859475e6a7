//! The `asgard.yaml` schema. Strict: every struct denies unknown keys, and the
//! loader reports the dotted path of the offending key. Semantic checks that
//! serde cannot express (patterns, ranges, cross-field rules) live in
//! `FileConfig::validate`, which also names the path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
pub use super::auto_approve::AutoApprove;
use crate::governance::{Classification, EVIDENCE_FIELDS};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
    #[serde(default)]
    pub registration: RegistrationConfig,
    #[serde(default)]
    pub classification_requirements: BTreeMap<Classification, Vec<String>>,
    #[serde(default)]
    pub review: ReviewConfig,
    #[serde(default)]
    pub governance: GovernanceConfig,
    pub lease_ttl_secs: Option<u64>,
    #[serde(default)]
    pub provisioning: ProvisioningFile,
    #[serde(default)]
    pub auth: AuthFile,
}

/// Credential rules. A PAT minting PATs is off by default: a leaked token
/// must not be able to renew itself; minting needs a signed-in session.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    #[serde(default)]
    pub pats_can_mint_pats: bool,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub key: String,
    pub display_name: String,
    #[serde(default)]
    pub cost_center: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    #[serde(default = "yes")]
    pub require_manager: bool,
    #[serde(default = "yes")]
    pub require_group: bool,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            require_manager: true,
            require_group: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    #[serde(default = "d_poc_window")]
    pub poc_window_days: u32,
    /// The review windows of the operational tiers: the more a project is
    /// relied on, the sooner it is looked at again.
    #[serde(default = "d_light_window")]
    pub light_window_days: u32,
    #[serde(default = "d_wide_window")]
    pub wide_window_days: u32,
    #[serde(default = "d_critical_window")]
    pub critical_window_days: u32,
    #[serde(default = "d_auto_ext")]
    pub auto_extensions: u32,
    #[serde(default = "d_sweep")]
    pub sweep_secs: u64,
}

fn d_poc_window() -> u32 {
    90
}
fn d_light_window() -> u32 {
    365
}
fn d_wide_window() -> u32 {
    180
}
fn d_critical_window() -> u32 {
    90
}
fn d_auto_ext() -> u32 {
    1
}
fn d_sweep() -> u64 {
    86_400
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            poc_window_days: d_poc_window(),
            light_window_days: d_light_window(),
            wide_window_days: d_wide_window(),
            critical_window_days: d_critical_window(),
            auto_extensions: d_auto_ext(),
            sweep_secs: d_sweep(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceConfig {
    #[serde(default = "d_maint")]
    pub maintainer_min: u32,
}

fn d_maint() -> u32 {
    2
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        Self {
            maintainer_min: d_maint(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningFile {
    pub terraform: Option<TerraformFile>,
    #[serde(default)]
    pub allowed: Vec<AllowedTarget>,
    #[serde(default)]
    pub auto_approve: AutoApprove,
    pub services_dir: Option<PathBuf>,
    /// Exact ARNs outside any project that `project_scoped_arns` inputs may
    /// still name (a shared KMS key, say). Logged at boot, and shown on
    /// every request that uses one.
    #[serde(default)]
    pub grant_allowlist: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerraformFile {
    pub bin: Option<PathBuf>,
    pub modules_dir: Option<PathBuf>,
    pub work_dir: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
    pub max_concurrent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedTarget {
    pub cloud: String,
    pub account: String,
}

impl FileConfig {
    /// Parse YAML text strictly, naming the path of the first offending key.
    pub fn parse(text: &str, source: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let de = serde_yaml::Deserializer::from_str(text);
        let cfg: FileConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            // serde_path_to_error renders a map key it could not parse as "?";
            // the message already names the bad key, so point at the map.
            let path = e.path().to_string();
            let path = path.strip_suffix(".?").map(str::to_string).unwrap_or(path);
            let inner = e.into_inner().to_string();
            ConfigError::File {
                source_name: source.to_string(),
                path: if path == "." { "(root)".into() } else { path },
                message: inner,
            }
        })?;
        cfg.validate(source)?;
        Ok(cfg)
    }

    fn validate(&self, source: &str) -> Result<(), ConfigError> {
        let err = |path: String, message: String| ConfigError::File {
            source_name: source.to_string(),
            path,
            message,
        };
        let mut seen = std::collections::HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if !valid_group_key(&g.key) {
                return Err(err(
                    format!("groups[{i}].key"),
                    format!("`{}` must match ^[a-z][a-z0-9_-]{{0,39}}$", g.key),
                ));
            }
            if !seen.insert(g.key.as_str()) {
                return Err(err(
                    format!("groups[{i}].key"),
                    format!("duplicate group `{}`", g.key),
                ));
            }
            if g.display_name.trim().is_empty() || g.display_name.len() > 120 {
                return Err(err(
                    format!("groups[{i}].display_name"),
                    "must be 1-120 characters".into(),
                ));
            }
        }
        for (tier, fields) in &self.classification_requirements {
            for (j, f) in fields.iter().enumerate() {
                if !EVIDENCE_FIELDS.iter().any(|(name, _)| name == f) {
                    return Err(err(
                        format!("classification_requirements.{}[{j}]", tier.as_str()),
                        format!("unknown evidence field `{f}`"),
                    ));
                }
            }
        }
        for (key, days) in [
            ("poc_window_days", self.review.poc_window_days),
            ("light_window_days", self.review.light_window_days),
            ("wide_window_days", self.review.wide_window_days),
            ("critical_window_days", self.review.critical_window_days),
        ] {
            if days == 0 || days > 3650 {
                return Err(err(
                    format!("review.{key}"),
                    "must be between 1 and 3650".into(),
                ));
            }
        }
        if self.review.auto_extensions > 100 {
            return Err(err(
                "review.auto_extensions".into(),
                "must be at most 100".into(),
            ));
        }
        if self.review.sweep_secs < 10 {
            return Err(err(
                "review.sweep_secs".into(),
                "must be at least 10".into(),
            ));
        }
        if let Some(ttl) = self.lease_ttl_secs
            && !(3..=86_400).contains(&ttl)
        {
            return Err(err(
                "lease_ttl_secs".into(),
                "must be between 3 and 86400".into(),
            ));
        }
        if let Some(tf) = &self.provisioning.terraform {
            if tf.timeout_secs == Some(0) {
                return Err(err(
                    "provisioning.terraform.timeout_secs".into(),
                    "must be positive".into(),
                ));
            }
            if let Some(n) = tf.max_concurrent
                && !(1..=64).contains(&n)
            {
                return Err(err(
                    "provisioning.terraform.max_concurrent".into(),
                    "must be between 1 and 64".into(),
                ));
            }
        }
        for (i, a) in self.provisioning.allowed.iter().enumerate() {
            if a.cloud.trim().is_empty() || a.account.trim().is_empty() {
                return Err(err(
                    format!("provisioning.allowed[{i}]"),
                    "cloud and account must be non-empty".into(),
                ));
            }
        }
        for (i, arn) in self.provisioning.grant_allowlist.iter().enumerate() {
            if let Some(why) = crate::catalog::scoped::arn_problem(arn) {
                return Err(err(
                    format!("provisioning.grant_allowlist[{i}]"),
                    format!("`{arn}` {why}"),
                ));
            }
        }
        if let Some(key) = self.provisioning.auto_approve.problem() {
            return Err(err(
                format!("provisioning.auto_approve.{key}"),
                "must be a non-negative number".into(),
            ));
        }
        Ok(())
    }
}

pub fn valid_group_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some('a'..='z'))
        && k.len() <= 40
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(text: &str) -> String {
        match FileConfig::parse(text, "asgard.yaml") {
            Err(ConfigError::File { path, .. }) => path,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn runbook_file_parses() {
        let c = FileConfig::parse(
            "groups:\n- { key: platform, display_name: Platform, cost_center: CC-100 }\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.groups[0].key, "platform");
        assert!(c.groups[0].active);
        assert!(c.registration.require_manager);
    }

    #[test]
    fn full_schema_parses() {
        let text = r#"
groups:
  - { key: platform, display_name: Platform, cost_center: CC-100, active: true }
registration: { require_manager: true, require_group: true }
classification_requirements:
  light-operational: [repo_or_source_url, support_contact, runbook_url]
review: { poc_window_days: 90, auto_extensions: 1, sweep_secs: 86400 }
governance: { maintainer_min: 2 }
lease_ttl_secs: 600
provisioning:
  terraform: { bin: terraform, modules_dir: /modules, work_dir: /data/asgard-tf, timeout_secs: 3600, max_concurrent: 4 }
  allowed: [ { cloud: auth0, account: your-tenant }, { cloud: aws, account: "123456789012" } ]
  auto_approve: { classifications: [poc], max_resource_monthly_usd: 50, max_project_monthly_usd: 500 }
  services_dir: /etc/asgard/services
  grant_allowlist: ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
auth: { pats_can_mint_pats: true }
"#;
        let c = FileConfig::parse(text, "t").unwrap();
        assert!(c.auth.pats_can_mint_pats);
        assert!(
            !FileConfig::parse("groups: []", "t")
                .unwrap()
                .auth
                .pats_can_mint_pats
        );
        assert_eq!(c.lease_ttl_secs, Some(600));
        assert_eq!(c.provisioning.allowed.len(), 2);
    }

    #[test]
    fn errors_name_the_path() {
        // An unknown key is named itself, so a typo is easy to spot.
        assert_eq!(path_of("grups: []"), "grups");
        assert_eq!(
            path_of("groups:\n- { key: x, display_name: X, colour: red }"),
            "groups[0].colour"
        );
        assert_eq!(
            path_of("review: { poc_window_days: soon }"),
            "review.poc_window_days"
        );
        assert_eq!(path_of("lease_ttl_secs: 1"), "lease_ttl_secs");
        assert_eq!(
            path_of("groups:\n- { key: Bad Key, display_name: X }"),
            "groups[0].key"
        );
        assert_eq!(
            path_of("classification_requirements: { light-operational: [shoe_size] }"),
            "classification_requirements.light-operational[0]"
        );
        assert_eq!(
            path_of("classification_requirements: { ultra: [] }"),
            "classification_requirements"
        );
        assert_eq!(
            path_of("provisioning:\n  auto_approve: { gold: {} }"),
            "provisioning.auto_approve.gold"
        );
        assert_eq!(
            path_of("provisioning:\n  auto_approve: { poc: { max_monthly_usd: 1 } }"),
            "provisioning.auto_approve.poc.max_monthly_usd"
        );
        assert_eq!(
            path_of(
                "provisioning:\n  auto_approve: { light-operational: { max_project_monthly_usd: -1 } }"
            ),
            "provisioning.auto_approve.light-operational.max_project_monthly_usd"
        );
        assert_eq!(
            path_of("provisioning:\n  auto_approve: { max_resource_monthly_usd: -1 }"),
            "provisioning.auto_approve.max_resource_monthly_usd"
        );
        assert_eq!(
            path_of("provisioning:\n  auto_approve: { classifications: [poc], poc: {} }"),
            "provisioning.auto_approve"
        );
        for bad in [
            "*",
            "arn:aws:kms:us-east-1:123456789012:key/*",
            "not-an-arn",
        ] {
            assert_eq!(
                path_of(&format!(
                    "provisioning:\n  grant_allowlist: [\"arn:aws:s3:::ok\", \"{bad}\"]"
                )),
                "provisioning.grant_allowlist[1]",
                "{bad}"
            );
        }
    }
}
