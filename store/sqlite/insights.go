package sqlite

import (
	"context"
	"fmt"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// HandoffsSince returns the handoffs created at or after since, oldest first;
// see store.Store. It walks the handoffs_created index from since on.
func (s *Store) HandoffsSince(ctx context.Context, since time.Time, limit int) ([]store.Handoff, error) {
	limit, err := rules.WindowLimit(limit, store.DefaultHandoffsSinceLimit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoffs since: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+handoffCols+` FROM `+handoffFrom+`
		WHERE h.created_at >= ? ORDER BY h.created_at, h.id LIMIT ?`, micros(rules.Since(since)), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoffs since: %w", err)
	}
	out, err := collect(rows, scanHandoff)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoffs since: %w", err)
	}
	return out, nil
}

// unansweredQuery walks the customer messages newest first down to since
// (the partial index messages_customer_created) and keeps those whose next
// message in the conversation, one probe of messages_conversation each, is an
// unresolved AI turn. No next message gives NULL, which keeps nothing.
const unansweredQuery = `SELECT ` + messageCols + ` FROM messages m
	WHERE m.role = 'customer' AND m.created_at >= ?
		AND (SELECT n.role = 'ai' AND n.unresolved FROM messages n
			WHERE n.conversation_id = m.conversation_id AND n.id > m.id ORDER BY n.id LIMIT 1)
	ORDER BY m.created_at DESC, m.id DESC LIMIT ?`

// Unanswered returns the customer messages the AI could not answer, newest
// first; see store.Store.
func (s *Store) Unanswered(ctx context.Context, since time.Time, limit int) ([]store.Message, error) {
	limit, err := rules.WindowLimit(limit, store.DefaultUnansweredLimit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unanswered: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, unansweredQuery, micros(rules.Since(since)), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unanswered: %w", err)
	}
	out, err := collect(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unanswered: %w", err)
	}
	return out, nil
}
