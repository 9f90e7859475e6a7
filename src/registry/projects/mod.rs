//! Projects: reads (scoped) here, registration in `register`, changes in
//! `lifecycle`.

mod lifecycle;
mod register;

pub use lifecycle::{check_decommission, decommission_in, may_decommission, patch, set_killed_in};
pub use register::{default_owner, may_register, register};

use super::{PROJECT_COLS, Project};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::store::{GenCache, Tx};
use bytes::Bytes;

pub async fn fetch_tx(tx: &mut Tx, id: &str) -> Result<Option<Project>> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// A project by id, unscoped: for background work, never for a caller.
pub async fn fetch_by_id(reg: Registry<'_>, id: &str) -> Result<Project> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    on_pool!(reg.store.read(), |pool| sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| Error::not_found(format!("project {id}")))
}

/// A project the caller may see, or `not_found` (never revealing existence).
pub async fn get(reg: Registry<'_>, p: &Principal, id: &str) -> Result<Project> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    let row: Option<Project> =
        on_pool!(reg.store.read(), |pool| sqlx::query_as::<_, Project>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
    match row {
        Some(pr) if pr.visible_to(p) => Ok(pr),
        _ => Err(Error::not_found(format!("project {id}"))),
    }
}

#[derive(Debug, Default)]
pub struct ListFilter {
    pub group: Option<String>,
    pub classification: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// Whose projects `p` lists: `None` for everything, else the key's project
/// (`true`) or the caller's email as owner or manager (`false`).
fn list_scope(p: &Principal) -> (Option<String>, bool) {
    if p.reads_everything() {
        (None, false)
    } else if let Some(k) = p.key_project() {
        (Some(k.to_string()), true)
    } else {
        (
            Some(p.email().unwrap_or("\u{0}no-email").to_string()),
            false,
        )
    }
}

/// Everything a `list` answer depends on besides the data: two callers with
/// the same key get the same page. Debug quoting keeps the parts apart.
/// Serialized project-list pages by scope and filters (SQLite only, exact
/// through the store's write generation: see `store::cache`).
pub struct ListCache(GenCache<String, Bytes>);

impl ListCache {
    pub fn for_store(store: &crate::store::Store) -> Option<Self> {
        store
            .exact_generation()
            .map(|g| ListCache(GenCache::new(g, 8 << 20, Bytes::len)))
    }
}

/// The list page, serialized straight from the rows (keys alphabetical).
#[derive(serde::Serialize)]
struct Page<'a> {
    next_cursor: Option<&'a str>,
    projects: Vec<crate::registry::ProjectView<'a>>,
}

/// One page of the projects the caller may see, as JSON: served from the
/// list cache while no write has committed since it was read.
pub async fn list_page(reg: Registry<'_>, p: &Principal, f: &ListFilter) -> Result<Bytes> {
    let cache = reg.lists.as_ref().map(|c| &c.0);
    let key = cache.map(|_| list_cache_key(p, f));
    if let (Some(cache), Some(key)) = (cache, &key)
        && let Some(body) = cache.get(key)
    {
        return Ok(body);
    }
    // Taken before the query: see `store::cache` for why.
    let tag = cache.map(GenCache::generation);
    let (rows, next) = list(reg, p, f).await?;
    let page = Page {
        next_cursor: next.as_deref(),
        projects: rows.iter().map(|r| r.view()).collect(),
    };
    let body = Bytes::from(serde_json::to_vec(&page).map_err(Error::internal)?);
    if let (Some(cache), Some(key), Some(tag)) = (cache, key, tag) {
        cache.insert(key, tag, body.clone());
    }
    Ok(body)
}

fn list_cache_key(p: &Principal, f: &ListFilter) -> String {
    let (scope, by_key) = list_scope(p);
    format!(
        "{scope:?}|{by_key}|{:?}|{:?}|{:?}|{:?}|{}",
        f.group, f.classification, f.q, f.cursor, f.limit
    )
}

pub async fn list(
    reg: Registry<'_>,
    p: &Principal,
    f: &ListFilter,
) -> Result<(Vec<Project>, Option<String>)> {
    let (scope, by_key) = list_scope(p);
    let limit = f.limit.clamp(1, 500);
    let q =
        f.q.as_ref()
            .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    let sql = format!(
        "SELECT {PROJECT_COLS} FROM projects
         WHERE ($1 IS NULL OR (CASE WHEN $2 THEN id = $1 ELSE (owner_email = $1 OR manager_email = $1) END))
           AND ($3 IS NULL OR grp = $3)
           AND ($4 IS NULL OR classification = $4)
           AND ($5 IS NULL OR lower(name) LIKE $5 OR id LIKE $5)
           AND ($6 IS NULL OR id < $6)
         ORDER BY id DESC LIMIT $7"
    );
    let rows: Vec<Project> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Project>(&sql)
            .bind(&scope)
            .bind(by_key)
            .bind(&f.group)
            .bind(&f.classification)
            .bind(&q)
            .bind(&f.cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await
    })?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<Project> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        rows.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok((rows, next))
}
