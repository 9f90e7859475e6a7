-- Why a request waits for a person, as the admission rule said when it was
-- asked (the policy, the project's review or the budget may change later),
-- so the request can say why for as long as it waits. NULL for requests
-- that needed no one and for rows written before this.
ALTER TABLE requests ADD COLUMN approval_reason TEXT;
