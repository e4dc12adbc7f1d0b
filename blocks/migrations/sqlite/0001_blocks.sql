-- Tenant blocks (5.7.705): sticky until an operator releases them. Kept
-- after release, with their evidence, as the tenant's history.
CREATE TABLE tenant_blocks (
	id INTEGER PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	reason TEXT NOT NULL,
	rule TEXT NOT NULL,
	figures TEXT NOT NULL,
	evidence TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	released_at BIGINT,
	released_by TEXT NOT NULL DEFAULT '',
	probation_quota BIGINT NOT NULL DEFAULT 0,
	probation_days INTEGER NOT NULL DEFAULT 0
);
-- At most one live block per tenant, so two nodes crossing the threshold
-- together make one block.
CREATE UNIQUE INDEX tenant_blocks_live ON tenant_blocks (tenant_id) WHERE released_at IS NULL;

-- Restrictions (5.1.8 / 5.7.711) of one sender, app password or connector.
CREATE TABLE restrictions (
	id INTEGER PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	kind TEXT NOT NULL,
	subject TEXT NOT NULL,
	reason TEXT NOT NULL,
	rule TEXT NOT NULL,
	figures TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	until_at BIGINT NOT NULL DEFAULT 0,
	released_at BIGINT,
	released_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX restrictions_live ON restrictions (tenant_id, kind, subject) WHERE released_at IS NULL;

CREATE TABLE unblock_requests (
	id INTEGER PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	block_id BIGINT NOT NULL REFERENCES tenant_blocks(id),
	cause TEXT NOT NULL,
	fix TEXT NOT NULL,
	status TEXT NOT NULL,
	submitted_by TEXT NOT NULL,
	submitted_at BIGINT NOT NULL,
	decided_by TEXT NOT NULL DEFAULT '',
	decided_at BIGINT NOT NULL DEFAULT 0,
	note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX unblock_requests_tenant ON unblock_requests (tenant_id, id);

-- Per-tenant overrides of the [policy] defaults, as JSON.
CREATE TABLE tenant_policy (
	tenant_id BIGINT PRIMARY KEY,
	overrides TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL
);

-- Daily verdict counts per tenant: the console's chart and the probation's
-- clean days.
CREATE TABLE tenant_stats (
	tenant_id BIGINT NOT NULL,
	day BIGINT NOT NULL,
	messages BIGINT NOT NULL DEFAULT 0,
	spam BIGINT NOT NULL DEFAULT 0,
	bulk BIGINT NOT NULL DEFAULT 0,
	refused BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, day)
);
