//! The two project bodies, each described once: `NewProject` (register) and
//! `ProjectPatch` (merge-update). The same type gives the JSON Schema both
//! doors check a body against (`edge::schema`, `edge::project_body`), the
//! OpenAPI request body
//! (through `describe`, the one place runtime settings are added) and the
//! MCP `inputSchema`; the registry's use cases take the parsed type.
//!
//! What a schema cannot say is checked by the use case (`Checked*`): names
//! that are placeholders, email syntax, the group allowlist, each evidence
//! value's normal form. Every refusal names its field.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::validate::{self, nullable};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::governance::evidence::{self, EVIDENCE_FIELDS, EvidenceChanges};
use crate::governance::{Classification, DataClass, Evidence};

/// The most a monthly budget may be, in US dollars.
const BUDGET_MAX_USD: f64 = 1e9;

/// A tier a project may be registered at (higher ones are reached by promotion).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StartTier {
    #[default]
    Poc,
    LightOperational,
}

impl From<StartTier> for Classification {
    fn from(t: StartTier) -> Self {
        match t {
            StartTier::Poc => Classification::Poc,
            StartTier::LightOperational => Classification::LightOperational,
        }
    }
}

/// `POST /api/projects` and `register_project`. On a new project `null`
/// means the same as leaving an optional field out.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// Human name of the project (not a placeholder like TODO).
    #[schemars(length(min = 1, max = 120))]
    pub name: String,
    /// Owner's email; with a personal access token it defaults to yours.
    #[schemars(email, extend("x-nullable" = true))]
    pub owner_email: Option<String>,
    /// Manager's email (required unless the operator turned that off; else defaults to the owner).
    #[schemars(email, extend("x-nullable" = true))]
    pub manager_email: Option<String>,
    /// A group key (GET /api/groups, list_groups).
    #[schemars(length(max = 40), extend("x-nullable" = true))]
    pub group: Option<String>,
    /// Monthly budget in USD; 0 = none set.
    #[schemars(range(min = 0, max = BUDGET_MAX_USD), extend("x-nullable" = true))]
    pub budget_usd: Option<f64>,
    #[schemars(extend("default" = "poc", "x-nullable" = true))]
    pub classification: Option<StartTier>,
    #[schemars(extend("default" = "internal", "x-nullable" = true))]
    pub data_class: Option<DataClass>,
    #[schemars(length(max = 2000), extend("x-nullable" = true))]
    pub description: Option<String>,
    pub evidence: Option<EvidenceChanges>,
}

/// `PATCH /api/projects/{id}` and `update_project`: only the fields sent
/// change. `null` clears the description or an evidence field; anywhere
/// else it is refused.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[schemars(length(min = 1, max = 120))]
    pub name: Option<String>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(length(max = 2000), extend("x-nullable" = true))]
    pub description: Option<Option<String>>,
    /// Monthly budget in USD; 0 = none set.
    #[schemars(range(min = 0, max = BUDGET_MAX_USD))]
    pub budget_usd: Option<f64>,
    #[schemars(email)]
    pub manager_email: Option<String>,
    /// Admins only.
    #[schemars(email)]
    pub owner_email: Option<String>,
    /// Admins only: an active group key.
    #[schemars(length(max = 40))]
    pub group: Option<String>,
    pub data_class: Option<DataClass>,
    /// Evidence fields to set (`null` clears one).
    pub evidence: Option<EvidenceChanges>,
}

/// The REST form of a body: evidence fields may also sit at the top level.
/// They are moved into `evidence`, so the rest of the way is the one typed
/// body; a field sent both ways is refused rather than one copy dropped
/// unchecked. On a patch, `classification` is refused with where to go
/// instead.
pub fn lift_evidence(raw: &mut Map<String, Value>, patch: bool) -> Result<()> {
    if patch && raw.contains_key("classification") {
        return Err(Error::invalid_hint(
            "classification",
            "cannot be changed by PATCH",
            "use POST /api/projects/{id}/promotion or /demote",
        ));
    }
    let top: Vec<String> = raw
        .keys()
        .filter(|k| evidence::kind_of(k).is_some())
        .cloned()
        .collect();
    if top.is_empty() {
        return Ok(());
    }
    let nested = raw
        .entry("evidence")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(_) = nested else {
        return Err(Error::invalid(
            "evidence",
            "must be an object of evidence fields",
        ));
    };
    for k in top {
        if let Some(v) = raw.remove(&k)
            && let Some(Value::Object(nested)) = raw.get_mut("evidence")
        {
            if nested.contains_key(&k) {
                return Err(Error::invalid_hint(
                    format!("evidence.{k}"),
                    "is sent both at the top level and inside evidence",
                    "send it once",
                ));
            }
            nested.insert(k, v);
        }
    }
    Ok(())
}

/// A raw project body as both doors take it, before the schema check:
/// every string is trimmed, so lengths, enums and patterns are checked on
/// the text that is stored (`" stateless "` is `stateless`).
pub fn normalize(raw: &mut Map<String, Value>) {
    fn trim(v: &mut Value) {
        match v {
            Value::String(s) if s.trim().len() != s.len() => *s = s.trim().to_string(),
            Value::Array(items) => items.iter_mut().for_each(trim),
            Value::Object(o) => o.values_mut().for_each(trim),
            _ => {}
        }
    }
    raw.values_mut().for_each(trim);
}

/// A refusal as the body's caller sees it: one item of an evidence list
/// is refused on the field itself (`evidence.maintainers`), as every other
/// evidence refusal is.
pub fn refusal(e: Error) -> Error {
    match e {
        Error::Invalid {
            field,
            message,
            hint,
        } if field.starts_with("evidence.") && field.ends_with(']') => {
            let field = field
                .find('[')
                .map_or(field.clone(), |i| field[..i].to_string());
            Error::Invalid {
                field,
                message,
                hint,
            }
        }
        other => other,
    }
}

/// The documented body (OpenAPI) from the type's schema: each evidence
/// field also allowed at the top level (see `lift_evidence`), and this
/// server's settings: the active groups as an `enum`, and on registration
/// the fields `registration` requires.
pub fn describe(schema: &mut Map<String, Value>, register: bool, config: &Config) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for (n, k) in EVIDENCE_FIELDS {
            props.insert((*n).to_string(), evidence::field_schema(*k));
        }
        if let Some(Value::Object(g)) = props.get_mut("group") {
            group_schema(g, config);
        }
    }
    if register {
        let reg = config.file.registration;
        let mut required = vec!["name", "owner_email"];
        if reg.require_manager {
            required.push("manager_email");
        }
        if reg.require_group {
            required.push("group");
        }
        schema.insert("required".into(), json!(required));
    }
}

/// The active groups of this server's allowlist, or (open mode) any key of
/// the right shape.
fn group_schema(g: &mut Map<String, Value>, config: &Config) {
    let groups = &config.file.groups;
    if groups.is_empty() {
        g.insert("pattern".into(), json!("^[a-z][a-z0-9_-]{0,39}$"));
        g.insert("description".into(), json!("open mode: any group key"));
        return;
    }
    let keys: Vec<&str> = groups
        .iter()
        .filter(|x| x.active)
        .map(|x| x.key.as_str())
        .collect();
    if keys.is_empty() {
        // An empty `enum` is not valid JSON Schema; say it in words.
        g.insert(
            "description".into(),
            json!("no group is active: registration is refused until an admin activates one"),
        );
    } else {
        g.insert("enum".into(), json!(keys));
    }
}

/// A new project after the checks a schema cannot make.
#[derive(Debug)]
pub(crate) struct CheckedNew {
    pub name: String,
    pub owner_email: Option<String>,
    pub manager_email: Option<String>,
    pub group: Option<String>,
    pub budget_cents: i64,
    pub classification: Classification,
    pub data_class: DataClass,
    pub description: Option<String>,
    pub evidence: Evidence,
}

fn email(field: &str, v: Option<String>) -> Result<Option<String>> {
    v.map(|e| validate::email(field, &e)).transpose()
}

fn cents(field: &str, usd: f64) -> Result<i64> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(Error::invalid(field, "must be zero or more"));
    }
    if usd > BUDGET_MAX_USD {
        return Err(Error::invalid(field, "must be at most 1000000000"));
    }
    Ok((usd * 100.0).round() as i64)
}

/// Each evidence value in its normal form (`None`: clear it).
fn evidence_changes(e: Option<EvidenceChanges>) -> Result<Vec<(String, Option<Value>)>> {
    e.map(|e| e.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| Ok((k.clone(), evidence::validate_field(&k, &v)?)))
        .collect()
}

impl NewProject {
    pub(crate) fn check(self) -> Result<CheckedNew> {
        Ok(CheckedNew {
            name: validate::project_name(&self.name)?,
            owner_email: email("owner_email", self.owner_email)?,
            manager_email: email("manager_email", self.manager_email)?,
            group: self.group.map(|g| g.trim().to_string()),
            budget_cents: self
                .budget_usd
                .map(|u| cents("budget_usd", u))
                .transpose()?
                .unwrap_or(0),
            classification: self.classification.unwrap_or_default().into(),
            data_class: self.data_class.unwrap_or_default(),
            description: validate::opt_text("description", self.description.as_deref(), 2000)?,
            evidence: evidence_changes(self.evidence)?
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        })
    }
}

/// A patch after the checks a schema cannot make.
#[derive(Debug, Default)]
pub(crate) struct CheckedPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub budget_cents: Option<i64>,
    pub manager_email: Option<String>,
    pub owner_email: Option<String>,
    pub group: Option<String>,
    pub data_class: Option<DataClass>,
    /// Evidence changes: `None` clears the field.
    pub evidence: Vec<(String, Option<Value>)>,
}

impl ProjectPatch {
    pub(crate) fn check(self) -> Result<CheckedPatch> {
        Ok(CheckedPatch {
            name: self.name.map(|n| validate::project_name(&n)).transpose()?,
            description: self
                .description
                .map(|d| validate::opt_text("description", d.as_deref(), 2000))
                .transpose()?,
            budget_cents: self
                .budget_usd
                .map(|u| cents("budget_usd", u))
                .transpose()?,
            manager_email: email("manager_email", self.manager_email)?,
            owner_email: email("owner_email", self.owner_email)?,
            group: self.group.map(|g| g.trim().to_string()),
            data_class: self.data_class,
            evidence: evidence_changes(self.evidence)?,
        })
    }
}
