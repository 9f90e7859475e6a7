//! `/api/auth/*`: local login and logout, the current user, password change,
//! personal access tokens, and the public `/api/auth/config`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ClientIp, Json, came_over_tls};
use super::{Api, AppState, Reply};
use crate::audit::{self, Event};
use crate::auth::credential::Credential;
use crate::auth::{Principal, login, pats, sessions, users};
use crate::error::Error;

pub fn routes(api: Api) -> Api {
    api.post("/api/auth/login", login)
        .doc("Log in with a local username and password; returns a session token and sets the session cookie")
        .public()
        .body::<Login>()
        .post("/api/auth/logout", logout)
        .doc("End the current session")
        .status(204)
        .get("/api/auth/me", me)
        .doc("The signed-in user (or the PAT's user), with role and what it can do")
        .get("/api/auth/config", config)
        .doc("Public sign-in configuration: system name, local login, SSO, registration rules, version")
        .public()
        .post("/api/auth/password", change_password)
        .doc("Change your own password: ends your other sessions (this one stays), and revokes your personal access tokens with revoke_tokens: true")
        .body::<PasswordChange>()
        .get("/api/auth/tokens", list_tokens)
        .doc("Your personal access tokens (never their values)")
        .post("/api/auth/tokens", mint_token)
        .doc("Mint a personal access token from a session (a PAT may mint one only when auth.pats_can_mint_pats allows it, and never one outliving itself); the token is shown only in this answer")
        .body::<pats::NewPat>()
        .status(201)
        .answer::<pats::MintedPat>()
        .delete("/api/auth/tokens/{id}", revoke_token)
        .doc("Revoke one of your personal access tokens")
        .status(204)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(app): State<AppState>,
    ClientIp { ip, peer }: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let login::LoggedIn { session: s, user } =
        login::password_login(app.accounts(), ip, &body.username, body.password).await?;
    let secure =
        app.config.force_https || came_over_tls(&headers, Some(peer), &app.config.trusted_proxies);
    let cookie = session_cookie(&s.token, sessions::IDLE.num_seconds(), secure);
    let mut resp =
        Reply(json!({"token": s.token, "expires_at": s.expires_at, "user": user.public()}))
            .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    format!(
        "asgard_session={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

async fn logout(
    State(app): State<AppState>,
    p: Principal,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The same parser as the auth middleware, so the session ended is the
    // one that authenticated this request.
    let tok = Credential::from_headers(&headers).map(|c| c.token);
    if let Some(t) = tok
        && sessions::end(&app.store, t).await?
    {
        audit::record_now(&app.store, Event::new(&p, "auth.logout")).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("asgard_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok(resp)
}

async fn me(State(app): State<AppState>, p: Principal) -> Result<Reply<Value>, ApiError> {
    let user = p.user().ok_or_else(Error::unauthenticated)?;
    if p.identity_is_dev() {
        return Ok(Reply(
            json!({"id": user.id, "username": user.username, "role": "admin", "dev_insecure": true}),
        ));
    }
    let row = users::by_id(&app.store, &user.id)
        .await?
        .ok_or_else(Error::unauthenticated)?;
    Ok(Reply(row.public()))
}

async fn config(State(app): State<AppState>) -> Reply<Value> {
    let reg = app.config.file.registration;
    Reply(json!({
        "system_name": app.config.system_name,
        "local": !app.config.disable_local_login,
        "oidc": app.config.oidc.is_some(),
        "registration": {"require_manager": reg.require_manager, "require_group": reg.require_group},
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
    /// Also revoke every personal access token of yours (default false).
    #[serde(default)]
    revoke_tokens: bool,
}

async fn change_password(
    State(app): State<AppState>,
    p: Principal,
    Json(b): Json<PasswordChange>,
) -> Result<Reply<Value>, ApiError> {
    let done = users::change_password(
        &app.store,
        &p,
        b.current_password,
        b.new_password,
        b.revoke_tokens,
    )
    .await?;
    Ok(Reply(json!(done)))
}

async fn list_tokens(State(app): State<AppState>, p: Principal) -> Result<Reply<Value>, ApiError> {
    let rows = pats::list(&app.store, &p).await?;
    Ok(Reply(json!({"tokens": rows})))
}

async fn mint_token(
    State(app): State<AppState>,
    p: Principal,
    Json(b): Json<pats::NewPat>,
) -> Result<(StatusCode, Reply<pats::MintedPat>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Reply(pats::mint(&app.store, &p, b, app.config.file.auth.pats_can_mint_pats).await?),
    ))
}

async fn revoke_token(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    pats::revoke(&app.store, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
