-- Admin sign-in uses the token table too: a short-lived "signin" ticket
-- between the password and the second factor, then a "session" token that
-- expires. API tokens ("api") never expire.
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE api_tokens ADD COLUMN admin_id BIGINT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
