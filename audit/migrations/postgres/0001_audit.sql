-- Audit log on PostgreSQL: the same table as on SQLite (see the SQLite
-- file for why ids come from the application and states are TEXT, not
-- jsonb: jsonb would reorder keys and break the hashes).

CREATE TABLE audit_log (
	id           BIGINT PRIMARY KEY,
	created_at   BIGINT NOT NULL,
	actor        TEXT   NOT NULL,
	tenant_id    BIGINT NOT NULL,
	source_ip    TEXT   NOT NULL,
	action       TEXT   NOT NULL,
	target       TEXT   NOT NULL,
	before_state TEXT,
	after_state  TEXT,
	prev_hash    TEXT   NOT NULL,
	hash         TEXT   NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_created ON audit_log (created_at);

CREATE TABLE audit_head (
	one       BIGINT PRIMARY KEY CHECK (one = 1),
	last_id   BIGINT NOT NULL,
	last_hash TEXT   NOT NULL
);
INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, 0, '');

-- Append-only in the database too; the hash chain catches whoever drops this.
CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_refuse();
