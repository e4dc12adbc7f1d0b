-- The same as migrations/sqlite/0008_snapshot_versions.sql: versions of
-- what the snapshot holds, bumped once per statement that changes it.
CREATE TABLE snapshot_versions (
	name    TEXT   PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO snapshot_versions (name, version) VALUES ('tenants', 1), ('connectors', 1);

CREATE FUNCTION snapshot_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE snapshot_versions SET version = version + 1 WHERE name = TG_ARGV[0];
	RETURN NULL;
END
$$;

CREATE TRIGGER tenants_bump AFTER INSERT OR UPDATE OR DELETE ON tenants FOR EACH STATEMENT EXECUTE FUNCTION snapshot_bump('tenants');
CREATE TRIGGER domains_bump AFTER INSERT OR UPDATE OR DELETE ON domains FOR EACH STATEMENT EXECUTE FUNCTION snapshot_bump('tenants');
CREATE TRIGGER connectors_bump AFTER INSERT OR UPDATE OR DELETE ON connectors FOR EACH STATEMENT EXECUTE FUNCTION snapshot_bump('connectors');
