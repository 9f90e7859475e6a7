//! The registry, Asgard's gate: projects, their keys, and the
//! kill switch. Every function takes the calling `Principal`, checks
//! authority itself, and writes its audit row in the same transaction.

pub mod governance;
pub mod input;
pub mod keys;
pub mod projects;
pub mod validate;

#[cfg(test)]
mod authority_tests;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::governance::Classification;
use crate::store::Store;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner_email: String,
    pub manager_email: String,
    pub grp: Option<String>,
    pub cost_center: Option<String>,
    pub classification: Classification,
    pub data_class: String,
    pub budget_cents: i64,
    pub lifecycle: Lifecycle,
    pub killed: bool,
    pub killed_reason: Option<String>,
    pub review_date: Option<DateTime<Utc>>,
    pub review_state: String,
    pub extensions_used: i64,
    pub evidence: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the registry's use cases need, and nothing more: the store, the
/// policy read from configuration, and the project-list page cache.
#[derive(Clone, Copy)]
pub struct Registry<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub lists: Option<&'a projects::ListCache>,
}

pub const PROJECT_COLS: &str = "id, name, description, owner_email, manager_email, grp, cost_center, classification, data_class, budget_cents, lifecycle, killed, killed_reason, review_date, review_state, extensions_used, evidence, created_by, created_at, updated_at";

crate::text_enum! {
    /// A project is active until it is decommissioned (read-only for good).
    pub enum Lifecycle {
        Active = "active",
        Decommissioned = "decommissioned",
    }
}

// Serialized straight from the row (no intermediate `Value` tree). Fields
// are in alphabetical order, the order the `json!` rendering this replaced
// produced, so the bytes are unchanged. Its schema is the answer schema of
// the project tools.
/// A project.
#[derive(Serialize, JsonSchema)]
pub struct ProjectView<'a> {
    budget_usd: f64,
    classification: &'a str,
    cost_center: Option<&'a str>,
    #[schemars(with = "String", extend("format" = "date-time"))]
    created_at: &'a DateTime<Utc>,
    created_by: &'a str,
    data_class: &'a str,
    description: Option<&'a str>,
    // Stored as JSON text: passed through, not re-parsed into a tree.
    #[schemars(with = "Map<String, Value>")]
    evidence: &'a RawValue,
    group: Option<&'a str>,
    killed: bool,
    killed_reason: Option<&'a str>,
    lifecycle: &'a str,
    manager_email: &'a str,
    name: &'a str,
    owner_email: &'a str,
    project_id: &'a str,
    review: ReviewView<'a>,
    #[schemars(with = "String", extend("format" = "date-time"))]
    updated_at: &'a DateTime<Utc>,
}

#[derive(Serialize, JsonSchema)]
struct ReviewView<'a> {
    #[schemars(with = "Option<String>")]
    date: Option<&'a DateTime<Utc>>,
    extensions_used: i64,
    state: &'a str,
}

impl Project {
    pub fn view(&self) -> ProjectView<'_> {
        // Evidence is written by `serde_json::to_string` of a BTreeMap, so it
        // is already compact with sorted keys; anything unreadable shows as {}.
        let evidence: &RawValue = match serde_json::from_str::<&RawValue>(&self.evidence) {
            Ok(v) if v.get().starts_with('{') => v,
            _ => empty_object(),
        };
        ProjectView {
            budget_usd: cents_to_usd(self.budget_cents),
            classification: self.classification.as_str(),
            cost_center: self.cost_center.as_deref(),
            created_at: &self.created_at,
            created_by: &self.created_by,
            data_class: &self.data_class,
            description: self.description.as_deref(),
            evidence,
            group: self.grp.as_deref(),
            killed: self.killed,
            killed_reason: self.killed_reason.as_deref(),
            lifecycle: self.lifecycle.as_str(),
            manager_email: &self.manager_email,
            name: &self.name,
            owner_email: &self.owner_email,
            project_id: &self.id,
            review: ReviewView {
                date: self.review_date.as_ref(),
                extensions_used: self.extensions_used,
                state: &self.review_state,
            },
            updated_at: &self.updated_at,
        }
    }

    /// The stored evidence (empty if unreadable).
    pub fn evidence_map(&self) -> crate::governance::Evidence {
        serde_json::from_str(&self.evidence).unwrap_or_default()
    }

    /// The view as a `Value`, for callers that add fields to it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// Whether `p` may see this project: admins, auditors, its owner or
    /// manager, or a key of this very project.
    pub fn visible_to(&self, p: &Principal) -> bool {
        p.reads_everything() || self.has_authority(p) || p.key_project() == Some(self.id.as_str())
    }

    /// Authority: admin, or the caller's email is owner or manager.
    pub fn has_authority(&self, p: &Principal) -> bool {
        if p.is_admin() {
            return true;
        }
        match p.email() {
            Some(e) if p.role() == Some(crate::auth::Role::Member) => {
                e == self.owner_email || e == self.manager_email
            }
            _ => false,
        }
    }

    /// Authority, or a key locked to this project (for agent writes).
    pub fn writable_by(&self, p: &Principal) -> bool {
        self.has_authority(p) || p.key_project() == Some(self.id.as_str())
    }

    pub fn require_authority(&self, p: &Principal) -> Result<()> {
        if self.has_authority(p) {
            Ok(())
        } else {
            Err(Error::forbidden(
                format!("you are not the owner or manager of {}", self.id),
                "ask the project's owner, its manager or an admin",
            ))
        }
    }

    pub fn require_live(&self) -> Result<()> {
        if self.lifecycle != Lifecycle::Active {
            return Err(Error::conflict(
                format!("project {} is {}", self.id, self.lifecycle),
                "register a new project",
            ));
        }
        if self.killed {
            return Err(Error::ProjectFrozen {
                message: format!("project {} is frozen (killed)", self.id),
            });
        }
        Ok(())
    }
}

fn empty_object() -> &'static RawValue {
    static EMPTY: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| RawValue::from_string("{}".into()).unwrap_or_default())
}

pub fn cents_to_usd(c: i64) -> f64 {
    c as f64 / 100.0
}

/// The groups a project may be registered under (`GET /api/groups`,
/// `list_groups`). Fields are in alphabetical order, the order of the JSON
/// rendering this replaced.
#[derive(Serialize, JsonSchema)]
pub struct Groups<'a> {
    pub groups: Vec<GroupView<'a>>,
    /// No allowlist is configured: any well-formed group key goes.
    pub open_mode: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct GroupView<'a> {
    pub cost_center: Option<&'a str>,
    pub display_name: &'a str,
    pub key: &'a str,
}

/// The active groups a project may be registered under, and whether the
/// allowlist is empty (open mode: any group name goes). Both doors list them.
pub fn groups(config: &Config) -> Groups<'_> {
    let groups = config
        .file
        .groups
        .iter()
        .filter(|g| g.active)
        .map(|g| GroupView {
            cost_center: g.cost_center.as_deref(),
            display_name: &g.display_name,
            key: &g.key,
        })
        .collect();
    Groups {
        groups,
        open_mode: config.file.groups.is_empty(),
    }
}
