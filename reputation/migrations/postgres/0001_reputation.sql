-- One row per source IP that sent mail through Tollgate. Nodes add their
-- in-memory counts with an upsert at each flush (see Tracker.Flush), so the
-- counts are fleet-wide. Times are Unix nanoseconds, as elsewhere.
CREATE TABLE reputation_ips (
	ip TEXT PRIMARY KEY,           -- netip.Addr.String(), IPv4 never IPv4-mapped
	first_seen BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	messages BIGINT NOT NULL DEFAULT 0,
	spam BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL     -- the writing node's clock: other nodes re-read rows updated since their last refresh
);
CREATE INDEX reputation_ips_updated ON reputation_ips (updated_at);

-- Operator allow and deny lists. A prefix is on one list at most.
CREATE TABLE reputation_lists (
	id BIGSERIAL PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('allow', 'deny')),
	prefix TEXT NOT NULL UNIQUE,   -- netip.Prefix.String(), masked
	reason TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

-- Exceptions: one tenant may send from one IP or CIDR despite its
-- reputation until expires_at (exclusive). Revoked rows are kept for the
-- record; expired ones simply stop matching.
CREATE TABLE reputation_exceptions (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	prefix TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reputation_exceptions_tenant ON reputation_exceptions (tenant_id);
