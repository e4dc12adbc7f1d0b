-- Directory: what attribution needs. Timestamps are BIGINT unix nanoseconds
-- (UTC); NULL deleted_at means live. Plain types so the PostgreSQL files can
-- mirror this one line for line (there: BIGINT GENERATED ALWAYS AS IDENTITY
-- for the ids).

CREATE TABLE tenants (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	license    TEXT    NOT NULL CHECK (license IN ('trial', 'licensed', 'expired')),
	seats      BIGINT  NOT NULL CHECK (seats >= 0),
	created_at BIGINT  NOT NULL
);

CREATE TABLE domains (
	id         INTEGER PRIMARY KEY,
	tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
	name       TEXT    NOT NULL,
	verified   BOOLEAN NOT NULL DEFAULT FALSE,
	token      TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	UNIQUE (tenant_id, name)
);
-- A verified domain belongs to one tenant only, even with several nodes
-- writing at once.
CREATE UNIQUE INDEX domains_verified_name ON domains (name) WHERE verified;

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	tenant_id     BIGINT  NOT NULL REFERENCES tenants (id),
	address       TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT  NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE connectors (
	id         INTEGER PRIMARY KEY,
	tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
	name       TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	deleted_at BIGINT
);
CREATE UNIQUE INDEX connectors_live_name ON connectors (tenant_id, name) WHERE deleted_at IS NULL;

-- One row per sender IP range, in canonical masked form ("192.0.2.0/24").
CREATE TABLE connector_ranges (
	connector_id BIGINT NOT NULL REFERENCES connectors (id),
	prefix       TEXT   NOT NULL,
	PRIMARY KEY (connector_id, prefix)
);
