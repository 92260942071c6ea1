package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// ConversationByThread returns the conversation on channel with thread key
// key; see store.Store.
func (s *Store) ConversationByThread(ctx context.Context, channel store.Channel, key string) (store.Conversation, error) {
	if err := rules.Thread(channel, key); err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: %w", err)
	}
	row := s.read.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE channel = ? AND thread_key = ?`, channel, key)
	c, err := scanConversation(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: thread %q on %s: %w", key, channel, err)
	}
	return c, nil
}

// SetThreadKey sets or clears the conversation's thread key; see store.Store.
func (s *Store) SetThreadKey(ctx context.Context, id store.ConversationID, key string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE conversations SET thread_key = ? WHERE id = ?`, nullText(key), id)
	if isUnique(err) {
		err = store.ErrExists
	}
	if err == nil {
		err = oneRow(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: thread key %q of %s: %w", key, id, err)
	}
	return nil
}

// isUnique reports whether err is a write refused by a unique index.
func isUnique(err error) bool {
	var e *driver.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
