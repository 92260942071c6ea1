-- Thread keys: a channel's own name for a conversation's thread (an SMS
-- number pair, an email's first Message-ID, a Slack thread ts, a call's
-- Call-ID). NULL when the channel has none; unique per channel otherwise.
-- SQLite cannot add a column only if it is missing, hence the guard:
-- applied if: SELECT count(*) > 0 FROM pragma_table_info('conversations') WHERE name = 'thread_key'

ALTER TABLE conversations ADD COLUMN thread_key TEXT;

-- ConversationByThread, and the rule that one key names one thread.
CREATE UNIQUE INDEX IF NOT EXISTS conversations_thread ON conversations (channel, thread_key)
    WHERE thread_key IS NOT NULL;
