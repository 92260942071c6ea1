-- Calls under way, per instance, so that a call whose instance died is
-- found and closed in its conversation (store.LiveCall).
CREATE TABLE IF NOT EXISTS live_calls (
    call_id    TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    instance   TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS live_calls_instance ON live_calls (instance);
CREATE INDEX IF NOT EXISTS live_calls_seen ON live_calls (seen_at);
