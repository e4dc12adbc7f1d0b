-- Traffic per connector, kept after deletion: "the attacker created a
-- connector, sprayed spam and deleted it" must still show the spray.
ALTER TABLE connectors ADD COLUMN messages BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connectors ADD COLUMN last_traffic BIGINT NOT NULL DEFAULT 0;
