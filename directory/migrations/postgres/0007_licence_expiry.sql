-- A licensed tenant's subscription ends on this date (unix nanoseconds; 0:
-- open-ended). Past it the tenant is treated as expired at once, on every
-- node, without a nightly job.
ALTER TABLE tenants ADD COLUMN license_expires BIGINT NOT NULL DEFAULT 0;
