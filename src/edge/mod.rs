//! What the two doors (`http` for REST, `mcp` for agents) share at the edge,
//! so neither imports the other: the state they serve, the error envelope of
//! HTTP answers, request ids, the `Host` and `Origin` parser, the body
//! deadline and the NUL screen. No domain decision is made here.

pub mod body_deadline;
pub mod error;
pub mod host;
pub mod nul;
pub mod project_body;
pub mod request_id;
pub mod schema;

use std::sync::Arc;

use crate::app::App;

/// The state both doors serve from.
pub type AppState = Arc<App>;
