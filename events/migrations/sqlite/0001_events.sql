-- Delivery events not yet accepted by the tenant's webhook (the outbox),
-- so a restart resumes sending them, and the webhooks tenants set through
-- the API. PostgreSQL has the same tables (migrations/postgres).
CREATE TABLE event_outbox (
	id         TEXT    PRIMARY KEY,  -- the event's id, the receiver's dedup key
	node       TEXT    NOT NULL,     -- the node that emitted it and resumes it
	tenant_id  INTEGER NOT NULL,
	body       TEXT    NOT NULL,     -- the event's JSON, as posted
	created_at INTEGER NOT NULL      -- unix nanoseconds: the order of sending
);
CREATE INDEX event_outbox_node ON event_outbox (node, created_at);

CREATE TABLE event_webhooks (
	tenant_id  INTEGER PRIMARY KEY,
	url        TEXT    NOT NULL,
	secret     TEXT    NOT NULL,     -- signs each request (alert's scheme)
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);
