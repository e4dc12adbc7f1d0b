-- Directory on PostgreSQL: the same tables, columns and constraints as
-- migrations/sqlite/0001_directory.sql, line for line. Differences:
--   * ids are BIGINT GENERATED ALWAYS AS IDENTITY (SQLite's INTEGER PRIMARY
--     KEY is its rowid);
--   * names are COLLATE "C", so ORDER BY sorts bytewise like SQLite's
--     BINARY collation, whatever the database's default locale is.
-- Timestamps are BIGINT unix nanoseconds (UTC); NULL deleted_at means live.

CREATE TABLE tenants (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT    COLLATE "C" NOT NULL UNIQUE,
	license    TEXT    NOT NULL CHECK (license IN ('trial', 'licensed', 'expired')),
	seats      BIGINT  NOT NULL CHECK (seats >= 0),
	created_at BIGINT  NOT NULL
);

CREATE TABLE domains (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
	name       TEXT    COLLATE "C" NOT NULL,
	verified   BOOLEAN NOT NULL DEFAULT FALSE,
	token      TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	UNIQUE (tenant_id, name)
);
-- A verified domain belongs to one tenant only, even with several nodes
-- writing at once.
CREATE UNIQUE INDEX domains_verified_name ON domains (name) WHERE verified;

CREATE TABLE users (
	id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id     BIGINT  NOT NULL REFERENCES tenants (id),
	address       TEXT    COLLATE "C" NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT  NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE connectors (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
	name       TEXT    COLLATE "C" NOT NULL,
	created_by TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	deleted_at BIGINT
);
CREATE UNIQUE INDEX connectors_live_name ON connectors (tenant_id, name) WHERE deleted_at IS NULL;

-- One row per sender IP range, in canonical masked form ("192.0.2.0/24").
-- TEXT rather than cidr: the overlap rule is checked in Go on both stores
-- (see directory/connectors.go), and the text form is what SQLite keeps.
CREATE TABLE connector_ranges (
	connector_id BIGINT NOT NULL REFERENCES connectors (id),
	prefix       TEXT   NOT NULL,
	PRIMARY KEY (connector_id, prefix)
);
