package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const messageCols = `id, conversation_id, role, text, unresolved, gap, idempotency_key, agent, created_at`

func scanMessage(r scanner) (store.Message, error) {
	var m store.Message
	var key sql.NullString
	var created int64
	err := r.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Text, &m.Unresolved, &m.Gap, &key, &m.Agent, &created)
	m.IdempotencyKey, m.CreatedAt = key.String, fromMicros(created)
	return m, err
}

// AppendMessage stores m once per idempotency key; see store.Store.
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, bool, error) {
	now := rules.Now()
	m, err := rules.Message(m, now)
	if err != nil {
		return store.Message{}, false, fmt.Errorf("sqlite: append message: %w", err)
	}
	var created bool
	err = s.inTx(ctx, func(tx *txn) error {
		var err error
		m, created, err = appendMessage(ctx, tx, m, now)
		return err
	})
	if err != nil {
		return store.Message{}, false, fmt.Errorf("sqlite: append message: %w", err)
	}
	return m, created, nil
}

func appendMessage(ctx context.Context, tx *txn, m store.Message, now time.Time) (store.Message, bool, error) {
	if err := conversationExists(ctx, tx, m.ConversationID); err != nil {
		return m, false, err
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO messages (conversation_id, role, text, unresolved, gap, idempotency_key, agent, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, idempotency_key) DO NOTHING RETURNING id`,
		m.ConversationID, m.Role, m.Text, m.Unresolved, m.Gap, nullText(m.IdempotencyKey), m.Agent, micros(m.CreatedAt),
	).Scan(&m.ID)
	if errors.Is(err, sql.ErrNoRows) { // the key is already stored
		row := tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages
			WHERE conversation_id = ? AND idempotency_key = ?`, m.ConversationID, m.IdempotencyKey)
		m, err = scanMessage(row)
		return m, false, err
	}
	if err != nil {
		return m, false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?`,
		micros(now), m.ConversationID)
	return m, true, err
}

// Message returns the message with id, or store.ErrNotFound.
func (s *Store) Message(ctx context.Context, id int64) (store.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("sqlite: message %d: %w", id, err)
	}
	return m, nil
}

// Messages returns the conversation's messages oldest first.
func (s *Store) Messages(ctx context.Context, id store.ConversationID) ([]store.Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageCols+` FROM messages
		WHERE conversation_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages of %s: %w", id, err)
	}
	out, err := collect(rows, scanMessage)
	if err == nil && len(out) == 0 {
		err = conversationExists(ctx, s.read, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages of %s: %w", id, err)
	}
	return out, nil
}
