-- OIDC sign-ins in progress (SPEC §3.6): one row per `GET /api/auth/oidc/login`,
-- deleted by the callback that uses it (single use) or once expired (10 minutes).
-- `state_hash` is SHA-256 of the state (the state itself is never stored);
-- `browser_hash` is SHA-256 of the cookie that binds the sign-in to its browser;
-- `verifier` is the PKCE verifier sealed with the `oidc-cookies` subkey.
CREATE TABLE oidc_logins (
    state_hash   TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     BYTEA NOT NULL,
    return_to    TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins(expires_at);
