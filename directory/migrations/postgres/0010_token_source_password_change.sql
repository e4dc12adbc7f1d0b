-- The same as migrations/sqlite/0010_token_source_password_change.sql:
-- where each API token was last used from, and admins who must change
-- their password before anything else.
ALTER TABLE api_tokens ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';

ALTER TABLE admins ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT FALSE;
