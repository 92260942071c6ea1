-- Which agent wrote an agent message (the agent's id; '' for other roles).
ALTER TABLE messages ADD COLUMN agent TEXT NOT NULL DEFAULT '';
