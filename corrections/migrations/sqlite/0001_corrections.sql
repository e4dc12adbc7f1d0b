-- Admins' corrections of the classifier's verdicts ("not spam", "spam") on
-- traced messages. Rows are only added: the latest row of a tenant's
-- fingerprint band wins, and the older ones stay as the history.
CREATE TABLE classify_corrections (
	id INTEGER PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	tenant TEXT NOT NULL,
	message TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	label TEXT NOT NULL, -- spam or not_spam
	marked_by TEXT NOT NULL,
	marked_at BIGINT NOT NULL
);
CREATE INDEX classify_corrections_tenant ON classify_corrections (tenant_id, id);
