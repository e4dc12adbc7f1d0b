-- The refusals by code over time (the operator's dashboard) and a tenant's
-- refused transactions (its day's figures) read reject events by time:
-- an index on them, so neither scans every accepted message's events.
CREATE INDEX trace_events_outcome ON trace_events (outcome, at);
