-- Which agent wrote an agent message (the agent's id; '' for other roles).
-- SQLite cannot add a column only if it is missing, hence the guard:
-- applied if: SELECT count(*) > 0 FROM pragma_table_info('messages') WHERE name = 'agent'

ALTER TABLE messages ADD COLUMN agent TEXT NOT NULL DEFAULT '';
