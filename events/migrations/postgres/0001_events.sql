-- Delivery events on PostgreSQL: the same tables as
-- migrations/sqlite/0001_events.sql (the outbox of events the tenant's
-- webhook has not yet accepted, and the webhooks tenants set).
CREATE TABLE event_outbox (
	id         TEXT    COLLATE "C" PRIMARY KEY,  -- the event's id, the receiver's dedup key
	node       TEXT    COLLATE "C" NOT NULL,     -- the node that emitted it and resumes it
	tenant_id  BIGINT  NOT NULL,
	body       TEXT    NOT NULL,     -- the event's JSON, as posted
	created_at BIGINT  NOT NULL      -- unix nanoseconds: the order of sending
);
CREATE INDEX event_outbox_node ON event_outbox (node, created_at);

CREATE TABLE event_webhooks (
	tenant_id  BIGINT  PRIMARY KEY,
	url        TEXT    NOT NULL,
	secret     TEXT    NOT NULL,     -- signs each request (alert's scheme)
	updated_by TEXT    NOT NULL,
	updated_at BIGINT  NOT NULL
);
