-- The attribution by id, beside the names the first version kept: the hold
-- before each attempt judges the connector, user and app password the
-- message was accepted under (a restriction names them by id). Rows
-- written before this migration keep 0 and '' here: their hold judges the
-- tenant and the sender only.
ALTER TABLE messages ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN connector_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN app_password_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN method TEXT NOT NULL DEFAULT '';
