-- Admins on PostgreSQL: the same tables, columns and constraints as
-- migrations/sqlite/0002_admins.sql, line for line, with the differences
-- of 0001 (identity ids, COLLATE "C" names).
--
-- Admins (operators and tenant admins) with their second factor, the
-- sign-in throttle, API tokens, and users' app passwords. Timestamps are
-- BIGINT unix nanoseconds (UTC); NULL means never (last_sign_in,
-- last_used) or live (revoked_at).

-- tenant_id is NULL for operators and set for tenant admins. totp_secret is
-- set once TOTP is confirmed; totp_pending holds the secret of an
-- enrolment that awaits its first code. totp_last_step is the last accepted
-- TOTP time step: CheckTOTP raises it with a conditional UPDATE, so a code
-- is accepted once even when two nodes see it at the same moment.
CREATE TABLE admins (
	id                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id           BIGINT  REFERENCES tenants (id),
	email               TEXT    COLLATE "C" NOT NULL UNIQUE,
	role                TEXT    NOT NULL CHECK (role IN ('operator', 'tenant-admin')),
	password_hash       TEXT    NOT NULL,
	totp_secret         TEXT,
	totp_pending        TEXT,
	totp_last_step      BIGINT  NOT NULL DEFAULT 0,
	created_at          BIGINT  NOT NULL,
	password_changed_at BIGINT  NOT NULL,
	last_sign_in        BIGINT,
	CHECK ((role = 'operator' AND tenant_id IS NULL) OR (role = 'tenant-admin' AND tenant_id IS NOT NULL))
);
CREATE INDEX admins_tenant ON admins (tenant_id);

-- argon2id hashes of the unused recovery codes; a used code's row is deleted.
CREATE TABLE admin_recovery_codes (
	id       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	admin_id BIGINT NOT NULL REFERENCES admins (id),
	hash     TEXT   NOT NULL
);
CREATE INDEX admin_recovery_codes_admin ON admin_recovery_codes (admin_id);

-- Failed sign-in attempts (password, TOTP or recovery code) by admin email,
-- known or not, so the throttle holds across nodes. An attempt is written
-- here before its check and deleted when it succeeds.
CREATE TABLE admin_auth_failures (
	id    BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email TEXT   COLLATE "C" NOT NULL,
	at    BIGINT NOT NULL
);
CREATE INDEX admin_auth_failures_email ON admin_auth_failures (email, at);
CREATE INDEX admin_auth_failures_at ON admin_auth_failures (at);

-- API tokens: operator scope (tenant_id NULL) or one tenant. secret_hash is
-- the hex SHA-256 of the token's random secret.
CREATE TABLE api_tokens (
	id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        TEXT    COLLATE "C" NOT NULL,
	operator    BOOLEAN NOT NULL,
	tenant_id   BIGINT  REFERENCES tenants (id),
	secret_hash TEXT    NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  BIGINT  NOT NULL,
	last_used   BIGINT,
	revoked_at  BIGINT,
	CHECK ((operator AND tenant_id IS NULL) OR (NOT operator AND tenant_id IS NOT NULL))
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

-- Users' generated app passwords (argon2id), each revocable on its own.
CREATE TABLE app_passwords (
	id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       BIGINT NOT NULL REFERENCES users (id),
	name          TEXT   COLLATE "C" NOT NULL,
	password_hash TEXT   NOT NULL,
	created_at    BIGINT NOT NULL,
	last_used     BIGINT,
	revoked_at    BIGINT
);
CREATE INDEX app_passwords_user ON app_passwords (user_id);
