//! The HTTP door (axum only): one router per area, summed here. Routes are
//! added through `Api`, which records every (method, path) it registers, so
//! tests can walk the real route table instead of a hand-kept list.

pub mod auth;
pub use crate::edge::{body_deadline, error, host};
pub mod extract;
pub mod meta;
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod openapi;
pub mod people;
pub mod projects;
pub mod resources;

use axum::Router;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, delete, get, patch, post};

pub use crate::edge::AppState;

/// JSON responses (our `extract::Json` is the request-side extractor).
pub use axum::Json as Reply;

/// What the OpenAPI description says about one route. Written beside the
/// route (`.doc(…)`, `.body::<T>()`), so the description cannot list a route
/// the router lacks, and a test fails on a route without a summary.
#[derive(Clone, Debug, Default)]
pub struct RouteDoc {
    pub summary: &'static str,
    /// The success status; 0 means 200.
    pub status: u16,
    /// The JSON Schema of the request body, if the route takes one.
    pub body: Option<serde_json::Value>,
    /// The JSON Schema of the success answer, when the route answers a typed one.
    pub answer: Option<serde_json::Value>,
    /// Query parameters (`limit` is an integer, the rest strings).
    pub query: &'static [&'static str],
    /// Answered without a credential.
    pub public: bool,
}

/// A router builder that remembers what it registered.
pub struct Api {
    router: Router<AppState>,
    table: Vec<(Method, &'static str, RouteDoc)>,
}

impl Api {
    fn new() -> Self {
        Api {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(mut self, method: Method, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        self.table.push((method, path, RouteDoc::default()));
        self.router = self.router.route(path, mr);
        self
    }

    fn last(&mut self) -> &mut RouteDoc {
        &mut self.table.last_mut().expect("a route before its docs").2
    }

    /// One line on what the route last added does.
    pub fn doc(mut self, summary: &'static str) -> Self {
        self.last().summary = summary;
        self
    }

    /// The route last added needs no credential.
    pub fn public(mut self) -> Self {
        self.last().public = true;
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.last().status = status;
        self
    }

    /// The request body is `T` (its schema derived from the type itself).
    pub fn body<T: schemars::JsonSchema>(self) -> Self {
        self.body_schema(openapi::schema_of::<T>())
    }

    /// The success answer is `T` (its schema derived from the type itself).
    pub fn answer<T: schemars::JsonSchema>(mut self) -> Self {
        self.last().answer = Some(crate::edge::schema::output_schema::<T>());
        self
    }

    pub fn body_schema(mut self, schema: serde_json::Value) -> Self {
        self.last().body = Some(schema);
        self
    }

    pub fn query(mut self, names: &'static [&'static str]) -> Self {
        self.last().query = names;
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, get(h))
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, post(h))
    }
    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PATCH, path, patch(h))
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::DELETE, path, delete(h))
    }
}

fn api() -> Api {
    let api = Api::new();
    let api = auth::routes(api);
    let api = oidc::routes(api);
    let api = people::routes(api);
    let api = projects::routes(api);
    let api = resources::routes(api);
    meta::api_routes(api)
}

/// Every `/api` route: (method, path template). Used by the route-walk test.
pub fn route_table() -> Vec<(String, String)> {
    documented_routes()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect()
}

/// The `/api` routes registered as public: (method, path template).
pub fn public_routes() -> Vec<(String, String)> {
    documented_routes()
        .into_iter()
        .filter(|(_, _, d)| d.public)
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect()
}

/// Paths of the routes registered `.public()`, built once from the router's
/// own table: the authentication middleware and the docs both read it.
pub fn public_paths() -> &'static std::collections::HashSet<&'static str> {
    static PATHS: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        documented_routes()
            .into_iter()
            .filter(|(_, _, d)| d.public)
            .map(|(_, p, _)| p)
            .collect()
    })
}

/// Every `/api` route with its documentation, for `openapi`.
pub fn documented_routes() -> Vec<(Method, &'static str, RouteDoc)> {
    api().table
}

async fn api_not_found() -> impl IntoResponse {
    error::plain(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API route",
        "GET /api/openapi.json describes every route (OpenAPI 3.1); docs/api.md explains them",
    )
}

async fn method_not_allowed() -> impl IntoResponse {
    error::plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
        "GET /api/openapi.json (or docs/api.md) lists the methods each route takes",
    )
}

/// The whole application router, with middleware, for a built `App`.
pub fn router(app: AppState, extra: Option<Router<AppState>>) -> Router {
    let api = api();
    let mut r = meta::public_routes(Router::new())
        .merge(api.router)
        .route("/api", axum::routing::any(api_not_found))
        .route("/api/", axum::routing::any(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found));
    if let Some(extra) = extra {
        r = r.merge(extra);
    }
    r.route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn(metrics::mark_route))
        .method_not_allowed_fallback(method_not_allowed)
        // Layers run outermost last-added: panics are caught, then counted
        // (`track`), then get a request id; authentication comes before the
        // NUL check so an unauthenticated caller still gets 401 first.
        .layer(axum::middleware::from_fn(middleware::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            middleware::authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn(middleware::request_context))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            error::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "an internal error occurred",
                "retry later; if it persists, tell an operator",
            )
        }))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        .with_state(app)
}
