//! The credential cache (SQLite only, exact through the store's write
//! generation: see `store::cache`): a resolved session, PAT or key by its
//! token hash, served until the credential's own expiry or refresh time and
//! never after any write, so a revocation takes effect on the next request.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Identity;
use crate::store::{GenCache, Generation, Store};

#[derive(Debug, Clone)]
pub struct Credential {
    pub identity: Identity,
    pub valid_until: DateTime<Utc>,
    pub refresh_at: DateTime<Utc>,
}

/// Resolved credentials by token hash.
pub struct CredentialCache(pub GenCache<String, Credential>);

impl CredentialCache {
    /// A cache for `store`, when its engine allows an exact one.
    pub fn for_store(store: &Store) -> Option<Self> {
        store.exact_generation().map(Self::new)
    }

    pub fn new(generation: Arc<Generation>) -> Self {
        CredentialCache(GenCache::new(generation, 10_000, |_| 1))
    }
}
