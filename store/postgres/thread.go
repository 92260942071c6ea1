package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// uniqueViolation is the SQLSTATE of a write refused by a unique index.
const uniqueViolation = "23505"

// ConversationByThread returns the conversation on channel with thread key
// key; see store.Store.
func (s *Store) ConversationByThread(ctx context.Context, channel store.Channel, key string) (store.Conversation, error) {
	if err := rules.Thread(channel, key); err != nil {
		return store.Conversation{}, fmt.Errorf("postgres: %w", err)
	}
	row := s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE channel = $1 AND thread_key = $2`, channel, key)
	c, err := scanConversation(row)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("postgres: thread %q on %s: %w", key, channel, err)
	}
	return c, nil
}

// SetThreadKey sets or clears the conversation's thread key; see store.Store.
func (s *Store) SetThreadKey(ctx context.Context, id store.ConversationID, key string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE conversations SET thread_key = $2 WHERE id = $1`, id, nullText(key))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		err = store.ErrExists
	}
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: thread key %q of %s: %w", key, id, err)
	}
	return nil
}
