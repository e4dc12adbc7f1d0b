-- An operator's hold (tollgate admin queue hold): a held message is never
-- picked for an attempt until it is released. Kept in the spool's metadata
-- so a hold survives a restart.
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN held_reason TEXT NOT NULL DEFAULT '';
