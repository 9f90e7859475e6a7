-- Governance requests: a promotion or a review extension waiting for an
-- admin. Provisioning requests stay in `requests` (they are bound to a
-- resource); both are listed by the one approvals inbox and decided through
-- the same routes. At most one pending request of each kind per project, so
-- a second ask answers the first instead of queueing a duplicate decision.
CREATE TABLE governance_requests (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    project_id           TEXT NOT NULL REFERENCES projects(id),
    from_tier            TEXT,
    to_tier              TEXT,
    review_date_before   TIMESTAMPTZ,
    review_date_after    TIMESTAMPTZ,
    requested_by         TEXT NOT NULL,
    requested_by_user_id TEXT,
    request_reason       TEXT,
    state                TEXT NOT NULL,
    decided_by           TEXT,
    decision_reason      TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    decided_at           TIMESTAMPTZ
);
CREATE INDEX governance_requests_state ON governance_requests(state, created_at);
CREATE INDEX governance_requests_project ON governance_requests(project_id, created_at);
CREATE UNIQUE INDEX governance_requests_one_pending ON governance_requests(project_id, kind)
    WHERE state = 'pending_approval';
