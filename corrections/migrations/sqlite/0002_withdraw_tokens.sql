-- A mark names the marked message's strongest words (tokens, space
-- separated), which it adjusts for its tenant; a mark can be withdrawn
-- (withdrawn_at, withdrawn_by), and a withdrawn mark stays as history.
ALTER TABLE classify_corrections ADD COLUMN tokens TEXT NOT NULL DEFAULT '';
ALTER TABLE classify_corrections ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE classify_corrections ADD COLUMN withdrawn_by TEXT NOT NULL DEFAULT '';
CREATE INDEX classify_corrections_withdrawn ON classify_corrections (withdrawn_at);
