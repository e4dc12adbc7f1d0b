-- The spool's metadata. The message bodies are files under msg/; a row here is
-- the commit point: a message is ours (and got its 250) once its row exists.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    sender       TEXT NOT NULL,            -- envelope sender; '' is the null sender
    envid        TEXT NOT NULL DEFAULT '',
    ret_full     INTEGER NOT NULL DEFAULT 0,
    utf8         INTEGER NOT NULL DEFAULT 0,
    kind         TEXT NOT NULL DEFAULT 'message', -- 'message' or 'dsn'
    pool         TEXT NOT NULL DEFAULT 'normal',
    tenant_id    INTEGER NOT NULL DEFAULT 0,
    tenant       TEXT NOT NULL DEFAULT '',
    user_name    TEXT NOT NULL DEFAULT '',
    connector    TEXT NOT NULL DEFAULT '',
    client_ip    TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,          -- unix nanoseconds
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,          -- unix nanoseconds; written before every dial
    last_error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_next_attempt ON messages(next_attempt);

CREATE TABLE recipients (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    addr       TEXT NOT NULL,
    orcpt      TEXT NOT NULL DEFAULT '',
    notify     TEXT NOT NULL DEFAULT '',    -- RFC 3461 NOTIFY, e.g. 'FAILURE,DELAY' or 'NEVER'; '' = default
    status     TEXT NOT NULL DEFAULT 'pending', -- pending, delivered, failed
    code       TEXT NOT NULL DEFAULT '',    -- enhanced status of the last answer
    detail     TEXT NOT NULL DEFAULT '',    -- the last remote reply or local reason
    remote     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, idx)
);
