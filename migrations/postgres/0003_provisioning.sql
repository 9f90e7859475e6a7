-- Provisioning: resources, their requests (the run queue), Terraform state
-- and locks (served to Terraform through Asgard's http backend), the secret
-- store and sealed run logs. Sealed columns hold AEAD ciphertext only.
CREATE TABLE resources (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id),
    service        TEXT NOT NULL,
    name           TEXT NOT NULL,
    spec           TEXT NOT NULL,
    state          TEXT NOT NULL,
    armed          BOOLEAN NOT NULL,
    cloud          TEXT NOT NULL,
    account        TEXT,
    outputs        TEXT NOT NULL DEFAULT '{}',
    estimate_cents BIGINT NOT NULL DEFAULT 0,
    suspended      BOOLEAN NOT NULL DEFAULT FALSE,
    last_error     TEXT,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, service, name)
);

CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    resource_id     TEXT NOT NULL REFERENCES resources(id),
    project_id      TEXT NOT NULL REFERENCES projects(id),
    kind            TEXT NOT NULL,
    spec            TEXT NOT NULL,
    state           TEXT NOT NULL,
    needs_approval  BOOLEAN NOT NULL,
    requested_by    TEXT NOT NULL,
    decided_by      TEXT,
    decision_reason TEXT,
    error           TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX requests_state ON requests(state, created_at);
CREATE INDEX requests_resource ON requests(resource_id, created_at);
CREATE INDEX requests_project ON requests(project_id, created_at);

CREATE TABLE tf_states (
    resource_id TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE tf_locks (
    resource_id TEXT PRIMARY KEY,
    lock_id     TEXT NOT NULL,
    info        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE secrets (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name, version)
);

CREATE TABLE run_logs (
    request_id TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
