-- The message trace: one row per event of a message's life (attribution,
-- each check's decision, the verdict, queueing, delivery attempts). Kept
-- for trace.retention, then purged.
CREATE TABLE trace_events (
	id         INTEGER PRIMARY KEY,
	at         BIGINT NOT NULL,
	session    TEXT   NOT NULL,
	queue_id   TEXT   NOT NULL,
	tenant_id  BIGINT NOT NULL,
	stage      TEXT   NOT NULL,
	outcome    TEXT   NOT NULL,
	rule       TEXT   NOT NULL,
	detail     TEXT   NOT NULL,
	sender     TEXT   NOT NULL,
	rcpt       TEXT   NOT NULL,
	message_id TEXT   NOT NULL,
	attrs      TEXT   NOT NULL
);
CREATE INDEX trace_events_at ON trace_events (at);
CREATE INDEX trace_events_session ON trace_events (session);
CREATE INDEX trace_events_queue ON trace_events (queue_id);
CREATE INDEX trace_events_sender ON trace_events (sender, at);
CREATE INDEX trace_events_rcpt ON trace_events (rcpt, at);
CREATE INDEX trace_events_msgid ON trace_events (message_id);
CREATE INDEX trace_events_tenant ON trace_events (tenant_id, at);
