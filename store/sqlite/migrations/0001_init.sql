-- Times are INTEGER microseconds since the Unix epoch, UTC: they sort and
-- compare as numbers and keep the precision PostgreSQL keeps.

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    customer   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('ai', 'pending_human', 'human', 'resolved')),
    agent      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- ListConversations: newest updated first, optionally by state.
CREATE INDEX conversations_updated ON conversations (updated_at DESC, id DESC);
CREATE INDEX conversations_state_updated ON conversations (state, updated_at DESC, id DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    role            TEXT NOT NULL CHECK (role IN ('customer', 'ai', 'agent', 'system')),
    text            TEXT NOT NULL,
    unresolved      INTEGER NOT NULL DEFAULT 0,
    gap             TEXT NOT NULL DEFAULT '',
    -- NULL when the message has no key: NULLs never collide in the unique index.
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, idempotency_key)
) STRICT;

CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE handoffs (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    trigger_name    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    topic           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    target          TEXT NOT NULL,
    status          TEXT NOT NULL
        CHECK (status IN ('pending', 'claimed', 'resolved', 'returned', 'follow_up')),
    sentiment       REAL NOT NULL,
    agent           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    claimed_at      INTEGER,
    closed_at       INTEGER
) STRICT;

CREATE INDEX handoffs_conversation ON handoffs (conversation_id, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT REFERENCES conversations (id),
    destination     TEXT NOT NULL,
    payload         BLOB NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;

-- Due: only undelivered items, in the order they come due.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
