-- Names are unqualified on purpose: the tables go into the first schema on
-- the connection's search_path, so one database can hold several instances
-- (and each test its own schema).

CREATE TABLE conversations (
    id         text PRIMARY KEY,
    channel    text NOT NULL,
    customer   text NOT NULL,
    state      text NOT NULL CHECK (state IN ('ai', 'pending_human', 'human', 'resolved')),
    agent      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- ListConversations: newest updated first, optionally by state.
CREATE INDEX conversations_updated ON conversations (updated_at DESC, id DESC);
CREATE INDEX conversations_state_updated ON conversations (state, updated_at DESC, id DESC);

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    role            text NOT NULL CHECK (role IN ('customer', 'ai', 'agent', 'system')),
    text            text NOT NULL,
    unresolved      boolean NOT NULL DEFAULT false,
    gap             text NOT NULL DEFAULT '',
    -- NULL when the message has no key: NULLs never collide in the unique index.
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    UNIQUE (conversation_id, idempotency_key)
);

CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE handoffs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    trigger_name    text NOT NULL,
    reason          text NOT NULL,
    topic           text NOT NULL,
    summary         text NOT NULL,
    target          text NOT NULL,
    status          text NOT NULL
        CHECK (status IN ('pending', 'claimed', 'resolved', 'returned', 'follow_up')),
    sentiment       double precision NOT NULL,
    agent           text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    claimed_at      timestamptz,
    closed_at       timestamptz
);

CREATE INDEX handoffs_conversation ON handoffs (conversation_id, id);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id text REFERENCES conversations (id),
    destination     text NOT NULL,
    payload         bytea NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);

-- Due: only undelivered items, in the order they come due.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
