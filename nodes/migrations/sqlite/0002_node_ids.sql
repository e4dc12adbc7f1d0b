-- Reports are keyed by the node's id (its data directory's node-id file),
-- not its hostname: two nodes configured with the same hostname no longer
-- overwrite each other. The old rows are dropped, not carried over: every
-- running node sends a fresh report within ReportEvery (10 s).
DROP TABLE node_reports;
CREATE TABLE node_reports (
	node_id     TEXT   PRIMARY KEY,
	hostname    TEXT   NOT NULL,
	queue_depth BIGINT NOT NULL CHECK (queue_depth >= 0),
	reported_at BIGINT NOT NULL
);
