-- DKIM keys of verified accepted domains (package dkim). A generation is
-- one rotation step: its keys (one Ed25519, one RSA, or one uploaded key)
-- are published, seen in DNS and retired together. private_sealed is the
-- PKCS#8 private key sealed with AES-256-GCM under the installation's DKIM
-- key ([dkim] key_file / TOLLGATE_DKIM_KEY), base64 of nonce||ciphertext;
-- the domain and selector are its additional data, so a sealed key cannot
-- be moved to another row. Timestamps are unix nanoseconds (UTC).
CREATE TABLE dkim_keys (
	id             INTEGER PRIMARY KEY,
	tenant_id      INTEGER NOT NULL,
	domain         TEXT    NOT NULL,
	selector       TEXT    NOT NULL,
	generation     INTEGER NOT NULL CHECK (generation >= 1),
	algorithm      TEXT    NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
	public_key     TEXT    NOT NULL,
	private_sealed TEXT    NOT NULL,
	origin         TEXT    NOT NULL CHECK (origin IN ('generated', 'uploaded')),
	state          TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
	created_at     INTEGER NOT NULL,
	active_at      INTEGER,
	retired_at     INTEGER,
	UNIQUE (tenant_id, domain, selector),
	UNIQUE (tenant_id, domain, generation, algorithm)
);
CREATE INDEX dkim_keys_domain ON dkim_keys (domain, state);
