-- DKIM keys on PostgreSQL: the same table as migrations/sqlite/0001_dkim_keys.sql,
-- line for line, with BIGINT identity ids and bytewise-sorting names.
CREATE TABLE dkim_keys (
	id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id      BIGINT  NOT NULL,
	domain         TEXT    COLLATE "C" NOT NULL,
	selector       TEXT    COLLATE "C" NOT NULL,
	generation     BIGINT  NOT NULL CHECK (generation >= 1),
	algorithm      TEXT    NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
	public_key     TEXT    NOT NULL,
	private_sealed TEXT    NOT NULL,
	origin         TEXT    NOT NULL CHECK (origin IN ('generated', 'uploaded')),
	state          TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
	created_at     BIGINT  NOT NULL,
	active_at      BIGINT,
	retired_at     BIGINT,
	UNIQUE (tenant_id, domain, selector),
	UNIQUE (tenant_id, domain, generation, algorithm)
);
CREATE INDEX dkim_keys_domain ON dkim_keys (domain, state);
