-- Where each API token was last used from (the client address of the
-- request that last wrote last_used), for the tokens page and the unblock
-- checklist: a token used from an address nobody knows is the usual trace
-- of a leaked credential. '' until the first use after this migration.
ALTER TABLE api_tokens ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';

-- An admin whose password must be changed before anything else: set by
-- another admin (or an operator) who suspects it leaked, cleared when the
-- admin sets a new one.
ALTER TABLE admins ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT FALSE;
