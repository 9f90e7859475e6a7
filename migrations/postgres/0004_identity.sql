-- Who minted each project key, by user id: separation of duties refuses the
-- minter the approval of the key's requests, and disabling a user lists the
-- keys they minted. `created_by` (the actor text) stays for display; the id
-- survives a later change of the user's email. Existing keys are matched on
-- the actor text; a key whose actor matches no single user (dev-insecure,
-- or an ambiguous name) keeps NULL and is then matched on the text.
ALTER TABLE project_keys ADD COLUMN created_by_user_id TEXT;
UPDATE project_keys SET created_by_user_id = (
    SELECT MIN(u.id) FROM users u
    WHERE 'user:' || COALESCE(u.email, u.username) = project_keys.created_by
    HAVING COUNT(*) = 1
);
CREATE INDEX project_keys_minter ON project_keys(created_by_user_id);
