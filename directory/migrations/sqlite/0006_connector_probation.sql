-- Probation: a new connector relays at most a small daily quota until an
-- admin confirms it with a fresh TOTP code (an attacker with a stolen
-- password alone cannot open a spam channel). The day bucket counts the
-- messages of the current UTC day.
ALTER TABLE connectors ADD COLUMN confirmed_at BIGINT;
ALTER TABLE connectors ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE connectors ADD COLUMN day_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connectors ADD COLUMN day_messages BIGINT NOT NULL DEFAULT 0;
-- Connectors made before probation existed are confirmed.
UPDATE connectors SET confirmed_at = created_at, confirmed_by = 'before probation';
