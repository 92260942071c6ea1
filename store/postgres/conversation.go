package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const conversationCols = `id, channel, customer, state, agent, thread_key, created_at, updated_at`

func scanConversation(r pgx.Row) (store.Conversation, error) {
	var c store.Conversation
	var key *string
	err := r.Scan(&c.ID, &c.Channel, &c.Customer, &c.State, &c.Agent, &key, &c.CreatedAt, &c.UpdatedAt)
	c.ThreadKey, c.CreatedAt, c.UpdatedAt = textOf(key), utc(c.CreatedAt), utc(c.UpdatedAt)
	return c, err
}

// CreateConversation stores c; see store.Store.
func (s *Store) CreateConversation(ctx context.Context, c store.Conversation) (store.Conversation, error) {
	c, err := rules.Conversation(c, rules.Now())
	if err != nil {
		return store.Conversation{}, fmt.Errorf("postgres: create conversation: %w", err)
	}
	// DO NOTHING on any conflict: a taken ID or a taken thread key.
	tag, err := s.pool.Exec(ctx, `INSERT INTO conversations (`+conversationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		c.ID, c.Channel, c.Customer, c.State, c.Agent, nullText(c.ThreadKey), c.CreatedAt, c.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrExists
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("postgres: create conversation %s: %w", c.ID, err)
	}
	return c, nil
}

// Conversation returns the conversation with id, or store.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id store.ConversationID) (store.Conversation, error) {
	c, err := conversation(ctx, s.pool, id, "")
	if err != nil {
		return store.Conversation{}, fmt.Errorf("postgres: %w", err)
	}
	return c, nil
}

// conversation reads one conversation; lock is "" or a locking clause such as
// "FOR UPDATE".
func conversation(ctx context.Context, q querier, id store.ConversationID, lock string) (store.Conversation, error) {
	row := q.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1 `+lock, id)
	c, err := scanConversation(row)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

// conversationExists returns store.ErrNotFound unless id is stored.
func conversationExists(ctx context.Context, q querier, id store.ConversationID) error {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, id).Scan(&ok); err != nil {
		return fmt.Errorf("conversation %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ListConversations returns conversations newest updated first; see store.Store.
func (s *Store) ListConversations(ctx context.Context, f store.ListFilter) ([]store.Conversation, error) {
	limit, err := rules.Limit(f)
	if err != nil {
		return nil, fmt.Errorf("postgres: list conversations: %w", err)
	}
	states, err := rules.States(f)
	if err != nil {
		return nil, fmt.Errorf("postgres: list conversations: %w", err)
	}
	// Two statements rather than one with "no states OR state = ANY", so each
	// gets a plan that uses its index.
	query, args := `SELECT `+conversationCols+` FROM conversations
		ORDER BY updated_at DESC, id DESC LIMIT $1`, []any{limit}
	if len(states) > 0 {
		query, args = `SELECT `+conversationCols+` FROM conversations WHERE state = ANY($2)
			ORDER BY updated_at DESC, id DESC LIMIT $1`, []any{limit, states}
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list conversations: %w", err)
	}
	out, err := collect(rows, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("postgres: list conversations: %w", err)
	}
	return out, nil
}
