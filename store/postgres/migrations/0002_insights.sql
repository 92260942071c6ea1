-- The agent console's insights view. IF NOT EXISTS keeps the file safe to
-- run again.

-- HandoffsSince: handoffs from a time on, oldest first.
CREATE INDEX IF NOT EXISTS handoffs_created ON handoffs (created_at, id);

-- Unanswered: customer messages from a time on, newest first. Only customer
-- messages are indexed; the reply to each is found through
-- messages_conversation.
CREATE INDEX IF NOT EXISTS messages_customer_created ON messages (created_at DESC, id DESC)
    WHERE role = 'customer';
