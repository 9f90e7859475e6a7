-- Who asked for each request, by user id: separation of duties compares ids,
-- so a person whose email (and so actor text) changed after asking cannot
-- approve their own request. NULL for requests made through a project key
-- (the key's minter is looked up instead) and for rows written before this.
ALTER TABLE requests ADD COLUMN requested_by_user_id TEXT;
