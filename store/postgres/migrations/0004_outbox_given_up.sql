-- An outbox item the delivery worker gave up on (too old, or refused for
-- good) gets failed_at and never comes due again. IF [NOT] EXISTS keeps the
-- file safe to run again.

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS failed_at timestamptz;

-- Due: only pending items (neither delivered nor given up), in the order they
-- come due. OutboxStats counts the same rows.
DROP INDEX IF EXISTS outbox_due;
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
