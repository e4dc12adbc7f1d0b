-- What each node of the fleet last said about itself (nodes package): one
-- row per node, replaced at every report.
CREATE TABLE node_reports (
	node        TEXT   PRIMARY KEY,
	queue_depth BIGINT NOT NULL CHECK (queue_depth >= 0),
	reported_at BIGINT NOT NULL
);
