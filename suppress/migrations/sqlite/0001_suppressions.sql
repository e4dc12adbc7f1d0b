-- Suppressed recipients (package suppress): a tenant's (tenant_id > 0) or
-- the operators' global list (tenant_id = 0). address is lowercase.
-- reason: hard-bounce, complaint or manual. Timestamps are unix nanoseconds.
CREATE TABLE suppressions (
	id         INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL,
	address    TEXT    NOT NULL,
	reason     TEXT    NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'manual')),
	detail     TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (tenant_id, address)
);
