-- Thread keys: a channel's own name for a conversation's thread (an SMS
-- number pair, an email's first Message-ID, a Slack thread ts, a call's
-- Call-ID). NULL when the channel has none; unique per channel otherwise.
-- IF NOT EXISTS keeps the file safe to run again.

ALTER TABLE conversations ADD COLUMN IF NOT EXISTS thread_key text;

-- ConversationByThread, and the rule that one key names one thread.
CREATE UNIQUE INDEX IF NOT EXISTS conversations_thread ON conversations (channel, thread_key)
    WHERE thread_key IS NOT NULL;
