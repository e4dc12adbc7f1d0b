-- Versions of what the snapshot holds, bumped by triggers on every change,
-- so each node reloads only when something changed: tenants and domains
-- (a full reload, costly with 100,000 tenants) or connectors (a cheap
-- reload of the connectors alone; their traffic counts change often).
CREATE TABLE snapshot_versions (
	name    TEXT   PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO snapshot_versions (name, version) VALUES ('tenants', 1), ('connectors', 1);

CREATE TRIGGER tenants_bump_ins AFTER INSERT ON tenants BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER tenants_bump_upd AFTER UPDATE ON tenants BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER tenants_bump_del AFTER DELETE ON tenants BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER domains_bump_ins AFTER INSERT ON domains BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER domains_bump_upd AFTER UPDATE ON domains BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER domains_bump_del AFTER DELETE ON domains BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'; END;
CREATE TRIGGER connectors_bump_ins AFTER INSERT ON connectors BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'connectors'; END;
CREATE TRIGGER connectors_bump_upd AFTER UPDATE ON connectors BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'connectors'; END;
CREATE TRIGGER connectors_bump_del AFTER DELETE ON connectors BEGIN UPDATE snapshot_versions SET version = version + 1 WHERE name = 'connectors'; END;
