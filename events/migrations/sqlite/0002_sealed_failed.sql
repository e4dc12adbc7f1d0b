-- Webhook signing secrets sealed at rest, and failed events kept.
--
-- secret_sealed holds the secret sealed with the installation's key
-- (store.Sealer, as the DKIM private keys are); the plain secret column is
-- emptied when a row is sealed. Rows written before this migration are
-- sealed when the events store opens (events.Open), since SQL cannot
-- encrypt: a node that starts seals them all at once.
ALTER TABLE event_webhooks ADD COLUMN secret_sealed TEXT NOT NULL DEFAULT '';

-- An event whose sends all failed stays in the outbox marked failed (unix
-- nanoseconds; 0 while it is pending), with the last error and the number
-- of sends tried, until a tenant admin redelivers it or it ages out
-- (events.failed_retention, events.failed_per_tenant).
ALTER TABLE event_outbox ADD COLUMN failed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE event_outbox ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
CREATE INDEX event_outbox_failed ON event_outbox (tenant_id, failed_at);
