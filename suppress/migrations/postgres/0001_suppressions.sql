-- Suppressed recipients on PostgreSQL: the same table as
-- migrations/sqlite/0001_suppressions.sql, with a BIGINT identity id.
CREATE TABLE suppressions (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id  BIGINT  NOT NULL,
	address    TEXT    COLLATE "C" NOT NULL,
	reason     TEXT    NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'manual')),
	detail     TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	UNIQUE (tenant_id, address)
);
