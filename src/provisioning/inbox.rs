//! The one approvals inbox: provisioning requests (bound to a resource, in
//! `requests`) and governance requests (promotions and review extensions,
//! in `governance_requests`) in one list, newest first. `type` tells them
//! apart; the decision routes dispatch on the id's prefix.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::view::RequestView;
use crate::registry::governance::GovernanceRequestView;

/// One entry of the requests list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxItem {
    /// A resource to create, change or destroy (`req-…`).
    Provisioning(Box<RequestView>),
    /// A promotion or a review extension (`gov-…`).
    Governance(Box<GovernanceRequestView>),
}

impl InboxItem {
    /// The page position: newest first, ids breaking ties.
    pub fn position(&self) -> (DateTime<Utc>, &str) {
        match self {
            InboxItem::Provisioning(v) => (v.created_at, &v.request_id),
            InboxItem::Governance(v) => (v.created_at, &v.request_id),
        }
    }
}

/// A page of requests, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InboxPage {
    pub requests: Vec<InboxItem>,
    /// Pass it back as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// A decision's answer: the request decided, of either kind (each as
/// `get_request` shows it).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Decided {
    Provisioning(Box<RequestView>),
    Governance(Box<GovernanceRequestView>),
}

/// Merge two lists each newest first into one, newest first.
pub fn merge(mut a: Vec<InboxItem>, b: Vec<InboxItem>) -> Vec<InboxItem> {
    a.extend(b);
    a.sort_by(|x, y| y.position().cmp(&x.position()));
    a
}
