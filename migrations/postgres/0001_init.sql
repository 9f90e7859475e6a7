-- Asgard schema, Postgres flavour. Timestamps are timestamptz; money is
-- integer cents; JSON is text (same shape as SQLite, parsed in the app).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT UNIQUE,
    display_name  TEXT,
    role          TEXT NOT NULL CHECK (role IN ('admin','member','auditor')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash TEXT,
    oidc_issuer   TEXT,
    oidc_subject  TEXT,
    is_bootstrap  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_hash          TEXT NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at          TIMESTAMPTZ NOT NULL,
    last_seen_at        TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE pats (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX pats_user ON pats(user_id);

CREATE TABLE project_counters (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT,
    owner_email      TEXT NOT NULL,
    manager_email    TEXT NOT NULL,
    grp              TEXT,
    cost_center      TEXT,
    classification   TEXT NOT NULL,
    data_class       TEXT NOT NULL,
    budget_cents     BIGINT NOT NULL DEFAULT 0,
    lifecycle        TEXT NOT NULL DEFAULT 'active',
    killed           BOOLEAN NOT NULL DEFAULT FALSE,
    killed_reason    TEXT,
    review_date      TIMESTAMPTZ,
    review_state     TEXT NOT NULL DEFAULT 'ok',
    extensions_used  BIGINT NOT NULL DEFAULT 0,
    evidence         TEXT NOT NULL DEFAULT '{}',
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_owner ON projects(owner_email);
CREATE INDEX projects_manager ON projects(manager_email);
CREATE INDEX projects_created ON projects(created_at);

CREATE TABLE project_keys (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX project_keys_project ON project_keys(project_id);

CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    project_id TEXT,
    target     TEXT,
    outcome    TEXT NOT NULL,
    reason     TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    request_id TEXT
);
CREATE INDEX audit_project ON audit_events(project_id, id);
CREATE INDEX audit_action ON audit_events(action, id);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
