-- At most one pending unblock request per block, enforced by the database
-- so two admins submitting at once (on two nodes) make one request.
CREATE UNIQUE INDEX unblock_requests_pending ON unblock_requests (block_id) WHERE status = 'pending';
