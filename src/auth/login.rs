//! Signing in with a local username and password: the use case behind
//! `POST /api/auth/login`. The door keeps only what is HTTP's (the cookie,
//! its `Secure` flag, cache headers).

use std::net::IpAddr;

use serde_json::json;

use super::password;
use super::sessions::{self, NewSession};
use super::throttle::Throttle;
use super::users::{self, UserRow};
use crate::audit::{self, Event};
use crate::error::{Error, Result};
use crate::store::Store;

/// What signing in needs: the store, the guess throttle, and whether local
/// sign-in is enabled here.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub store: &'a Store,
    pub throttle: &'a Throttle,
    pub local_login: bool,
}

/// A successful sign-in: the new session and who it belongs to.
pub struct LoggedIn {
    pub session: NewSession,
    pub user: UserRow,
}

/// Check `username`/`password` from `ip` and open a session. The throttle
/// slot is taken before the slow verify, so parallel guesses cannot all pass
/// a check none of them has failed yet; every failure is audited with what
/// was typed (escaped), never the password.
pub async fn password_login(
    accounts: Accounts<'_>,
    ip: IpAddr,
    username: &str,
    password: String,
) -> Result<LoggedIn> {
    if !accounts.local_login {
        return Err(Error::forbidden(
            "local sign-in is disabled here",
            "use \"Sign in with SSO\" (GET /api/auth/oidc/login)",
        ));
    }
    let login = username.trim();
    if login.is_empty() || login.len() > 254 || password.len() > 1024 {
        return Err(Error::InvalidCredentials);
    }
    let slot = accounts
        .throttle
        .reserve(ip, login)
        .map_err(|wait| Error::TooManyAttempts { retry_after: wait })?;
    let user = users::by_login(accounts.store, login).await?;
    let stored = user
        .as_ref()
        .filter(|u| u.active)
        .and_then(|u| u.password_hash.clone());
    let ok = password::verify(password, stored).await;
    let Some(user) = user.filter(|_| ok) else {
        slot.fail();
        let who = format!("anonymous:{ip}");
        // What was typed goes to the audit log, never a raw control character.
        let typed = audit::escape_untrusted(login);
        audit::record_now(
            accounts.store,
            Event::system(&who, "auth.login_failed")
                .target(&typed)
                .outcome("denied"),
        )
        .await?;
        return Err(Error::InvalidCredentials);
    };
    slot.succeed();
    let session = sessions::create(accounts.store, &user.id).await?;
    let actor = format!("user:{}", user.email.as_deref().unwrap_or(&user.username));
    audit::record_now(
        accounts.store,
        Event::system(&actor, "auth.login")
            .target(&user.id)
            .data(json!({"method": "password"})),
    )
    .await?;
    Ok(LoggedIn { session, user })
}
