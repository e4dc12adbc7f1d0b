-- Sender binding: a tenant may tie its SMTP AUTH users to their own
-- address ('login') instead of letting them send as any address ('off').
-- user_aliases are the other addresses an admin lets one user send as.
-- Both are in the snapshot (the binding check reads them on every
-- message), so changes bump the 'tenants' version.
ALTER TABLE tenants ADD COLUMN sender_binding TEXT NOT NULL DEFAULT 'off';

CREATE TABLE user_aliases (
	id         INTEGER PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	address    TEXT   NOT NULL,
	created_by TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (user_id, address)
);

CREATE TRIGGER user_aliases_bump_ins AFTER INSERT ON user_aliases BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER user_aliases_bump_upd AFTER UPDATE ON user_aliases BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER user_aliases_bump_del AFTER DELETE ON user_aliases BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
