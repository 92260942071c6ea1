package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const messageCols = `id, conversation_id, role, text, unresolved, gap, idempotency_key, agent, created_at`

func scanMessage(r pgx.Row) (store.Message, error) {
	var m store.Message
	var key *string
	err := r.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Text, &m.Unresolved, &m.Gap, &key, &m.Agent, &m.CreatedAt)
	m.IdempotencyKey, m.CreatedAt = textOf(key), utc(m.CreatedAt)
	return m, err
}

// AppendMessage stores m once per idempotency key; see store.Store.
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, bool, error) {
	now := rules.Now()
	m, err := rules.Message(m, now)
	if err != nil {
		return store.Message{}, false, fmt.Errorf("postgres: append message: %w", err)
	}
	m, created, err := appendMessage(ctx, s.pool, m, now)
	if err != nil {
		return store.Message{}, false, fmt.Errorf("postgres: append message: %w", err)
	}
	return m, created, nil
}

// foreignKeyViolation is the SQLSTATE of a write that names a row that
// does not exist.
const foreignKeyViolation = "23503"

// appendSQL inserts a message and bumps its conversation's updated_at in
// one statement, atomic on its own: one round trip where a transaction of
// a check, the insert and the update took five, with a connection held
// across them. An unknown conversation fails the foreign key.
const appendSQL = `WITH m AS (
		INSERT INTO messages (conversation_id, role, text, unresolved, gap, idempotency_key, agent, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (conversation_id, idempotency_key) DO NOTHING RETURNING id
	), c AS (
		UPDATE conversations SET updated_at = greatest(updated_at, $9) WHERE id = $1 AND EXISTS (SELECT FROM m)
	)
	SELECT id FROM m`

// appendMessage inserts m unless its key is stored. A concurrent delivery of
// the same key waits on the unique index until the first commits, then finds
// its row, so exactly one of them creates the message.
func appendMessage(ctx context.Context, q querier, m store.Message, now time.Time) (store.Message, bool, error) {
	err := q.QueryRow(ctx, appendSQL, m.ConversationID, m.Role, m.Text, m.Unresolved, m.Gap,
		nullText(m.IdempotencyKey), m.Agent, m.CreatedAt, now).Scan(&m.ID)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == foreignKeyViolation:
		return m, false, fmt.Errorf("conversation %s: %w", m.ConversationID, store.ErrNotFound)
	case errors.Is(err, pgx.ErrNoRows): // the key is already stored
		row := q.QueryRow(ctx, `SELECT `+messageCols+` FROM messages
			WHERE conversation_id = $1 AND idempotency_key = $2`, m.ConversationID, m.IdempotencyKey)
		m, err = scanMessage(row)
		return m, false, err
	}
	return m, err == nil, err
}

// Message returns the message with id, or store.ErrNotFound.
func (s *Store) Message(ctx context.Context, id int64) (store.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("postgres: message %d: %w", id, err)
	}
	return m, nil
}

// Messages returns the conversation's messages oldest first.
func (s *Store) Messages(ctx context.Context, id store.ConversationID) ([]store.Message, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+messageCols+` FROM messages
		WHERE conversation_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: messages of %s: %w", id, err)
	}
	out, err := collect(rows, scanMessage)
	if err == nil && len(out) == 0 {
		err = conversationExists(ctx, s.pool, id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: messages of %s: %w", id, err)
	}
	return out, nil
}
