-- Which agent wrote an agent message (the agent's id; '' for other roles).
ALTER TABLE messages ADD COLUMN IF NOT EXISTS agent text NOT NULL DEFAULT '';
