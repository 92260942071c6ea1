package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const conversationCols = `id, channel, customer, state, agent, thread_key, created_at, updated_at`

func scanConversation(r scanner) (store.Conversation, error) {
	var c store.Conversation
	var key sql.NullString
	var created, updated int64
	err := r.Scan(&c.ID, &c.Channel, &c.Customer, &c.State, &c.Agent, &key, &created, &updated)
	c.ThreadKey, c.CreatedAt, c.UpdatedAt = key.String, fromMicros(created), fromMicros(updated)
	return c, err
}

// CreateConversation stores c; see store.Store.
func (s *Store) CreateConversation(ctx context.Context, c store.Conversation) (store.Conversation, error) {
	c, err := rules.Conversation(c, rules.Now())
	if err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: create conversation: %w", err)
	}
	// DO NOTHING on any conflict: a taken ID or a taken thread key.
	res, err := s.write.ExecContext(ctx, `INSERT INTO conversations (`+conversationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ID, c.Channel, c.Customer, c.State, c.Agent, nullText(c.ThreadKey), micros(c.CreatedAt), micros(c.UpdatedAt))
	if err == nil {
		err = oneRow(res, store.ErrExists)
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: create conversation %s: %w", c.ID, err)
	}
	return c, nil
}

// Conversation returns the conversation with id, or store.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id store.ConversationID) (store.Conversation, error) {
	c, err := conversation(ctx, s.read, id)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: %w", err)
	}
	return c, nil
}

func conversation(ctx context.Context, q queryRower, id store.ConversationID) (store.Conversation, error) {
	row := q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = ?`, id)
	c, err := scanConversation(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

// conversationExists returns store.ErrNotFound unless id is stored.
func conversationExists(ctx context.Context, q queryRower, id store.ConversationID) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("conversation %s: %w", id, err)
	}
	return nil
}

// ListConversations returns conversations newest updated first; see store.Store.
func (s *Store) ListConversations(ctx context.Context, f store.ListFilter) ([]store.Conversation, error) {
	limit, err := rules.Limit(f)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conversations: %w", err)
	}
	states, err := rules.States(f)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conversations: %w", err)
	}
	query, args := listQuery(states, limit)
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conversations: %w", err)
	}
	out, err := collect(rows, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conversations: %w", err)
	}
	return out, nil
}

func listQuery(states []string, limit int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(states)+1)
	b.WriteString(`SELECT ` + conversationCols + ` FROM conversations`)
	if len(states) > 0 {
		b.WriteString(` WHERE state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`)
		for _, st := range states {
			args = append(args, st)
		}
	}
	b.WriteString(` ORDER BY updated_at DESC, id DESC LIMIT ?`)
	return b.String(), append(args, limit)
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// oneRow returns none unless res changed a row.
func oneRow(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}
