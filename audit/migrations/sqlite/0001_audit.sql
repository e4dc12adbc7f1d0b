-- Audit log: an append-only, hash-chained list of changes and security
-- events. Ids are assigned by the application (head.last_id + 1), never by
-- the database, because the id is part of each entry's hash. Timestamps are
-- BIGINT unix nanoseconds (UTC). before_state/after_state hold compacted
-- JSON exactly as hashed: on PostgreSQL keep them TEXT, not jsonb, which
-- would reorder keys and break the hashes. There: BIGINT for the id.

CREATE TABLE audit_log (
	id           INTEGER PRIMARY KEY,
	created_at   BIGINT  NOT NULL,
	actor        TEXT    NOT NULL,
	tenant_id    BIGINT  NOT NULL,
	source_ip    TEXT    NOT NULL,
	action       TEXT    NOT NULL,
	target       TEXT    NOT NULL,
	before_state TEXT,
	after_state  TEXT,
	prev_hash    TEXT    NOT NULL,
	hash         TEXT    NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_created ON audit_log (created_at);

-- The head: id and hash of the newest entry, updated in the same
-- transaction as each append, so deleting the last entries shows up as a
-- head that points past the end of the log. Exactly one row.
CREATE TABLE audit_head (
	one       BIGINT PRIMARY KEY CHECK (one = 1),
	last_id   BIGINT NOT NULL,
	last_hash TEXT   NOT NULL
);
INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, 0, '');

-- Append-only in the database too, so a bug elsewhere cannot edit history.
-- Someone with write access can drop these; the hash chain catches that.
-- (PostgreSQL: the same with a trigger function, or REVOKE UPDATE, DELETE.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
	SELECT RAISE(ABORT, 'audit_head must keep its row');
END;
