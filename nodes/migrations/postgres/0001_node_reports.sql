-- What each node of the fleet last said about itself (nodes package): the
-- same table as migrations/sqlite/0001_node_reports.sql.
CREATE TABLE node_reports (
	node        TEXT   COLLATE "C" PRIMARY KEY,
	queue_depth BIGINT NOT NULL CHECK (queue_depth >= 0),
	reported_at BIGINT NOT NULL
);
