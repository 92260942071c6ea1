-- An outbox item the delivery worker gave up on (too old, or refused for
-- good) gets failed_at and never comes due again.
--
-- SQLite has no ADD COLUMN IF NOT EXISTS, and migrations must be safe to run
-- again, so the table is rebuilt instead. The copy reads the old rows with
-- SELECT * NATURAL LEFT JOIN a one-column row named failed_at: on the first
-- run outbox has no failed_at, the join has no common column and adds a NULL
-- one; on a second run failed_at is the common column, and a USING column
-- keeps the left table's value. Either way the rows come out in the new
-- table's shape with nothing lost.

CREATE TABLE outbox_0004 (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT REFERENCES conversations (id),
    destination     TEXT NOT NULL,
    payload         BLOB NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    failed_at       INTEGER
) STRICT;

INSERT INTO outbox_0004 SELECT * FROM outbox NATURAL LEFT JOIN (SELECT NULL AS failed_at);
DROP TABLE outbox;
ALTER TABLE outbox_0004 RENAME TO outbox;

-- Due: only pending items (neither delivered nor given up), in the order they
-- come due. OutboxStats counts the same rows.
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
