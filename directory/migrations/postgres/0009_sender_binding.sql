-- The same as migrations/sqlite/0009_sender_binding.sql: the tenant's
-- sender binding ('off' or 'login') and the addresses an admin lets one
-- user send as besides its login, both in the snapshot.
ALTER TABLE tenants ADD COLUMN sender_binding TEXT NOT NULL DEFAULT 'off';

CREATE TABLE user_aliases (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	address    TEXT   COLLATE "C" NOT NULL,
	created_by TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (user_id, address)
);

CREATE TRIGGER user_aliases_bump AFTER INSERT OR UPDATE OR DELETE ON user_aliases FOR EACH STATEMENT EXECUTE FUNCTION snapshot_bump('tenants');
