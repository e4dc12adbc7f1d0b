-- Reports keyed by node id, not hostname: the same change as
-- migrations/sqlite/0002_node_ids.sql.
DROP TABLE node_reports;
CREATE TABLE node_reports (
	node_id     TEXT   COLLATE "C" PRIMARY KEY,
	hostname    TEXT   COLLATE "C" NOT NULL,
	queue_depth BIGINT NOT NULL CHECK (queue_depth >= 0),
	reported_at BIGINT NOT NULL
);
