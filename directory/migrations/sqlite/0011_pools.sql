-- Dedicated delivery pools: an operator may send a tenant's (or one
-- connector's) mail from its own source addresses. '' is no assignment
-- (the connector takes its tenant's pool, the tenant takes normal). The
-- name is checked against the config at delivery time, not here: a pool
-- removed from the config falls back to normal rather than bounce mail.
ALTER TABLE tenants ADD COLUMN pool TEXT NOT NULL DEFAULT '';
ALTER TABLE connectors ADD COLUMN pool TEXT NOT NULL DEFAULT '';
