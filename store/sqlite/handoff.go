package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// handoffCols are read FROM handoffFrom, which joins each handoff to its
// conversation for the read-only Channel.
const (
	handoffCols = `h.id, h.conversation_id, c.channel, h.trigger_name, h.reason, h.topic, h.summary, h.target,
	h.status, h.sentiment, h.agent, h.created_at, h.updated_at, h.claimed_at, h.closed_at`
	handoffFrom = `handoffs h JOIN conversations c ON c.id = h.conversation_id`
)

func scanHandoff(r scanner) (store.Handoff, error) {
	var h store.Handoff
	var created, updated int64
	var claimed, closed sql.NullInt64
	err := r.Scan(&h.ID, &h.ConversationID, &h.Channel, &h.Trigger, &h.Reason, &h.Topic, &h.Summary, &h.Target,
		&h.Status, &h.Sentiment, &h.Agent, &created, &updated, &claimed, &closed)
	h.CreatedAt, h.UpdatedAt = fromMicros(created), fromMicros(updated)
	h.ClaimedAt, h.ClosedAt = fromNullMicros(claimed), fromNullMicros(closed)
	return h, err
}

// RequestHandoff records h and moves the conversation to pending_human in one
// transaction; see store.Store.
func (s *Store) RequestHandoff(ctx context.Context, h store.Handoff) (store.Handoff, error) {
	now := rules.Now()
	h, err := rules.Handoff(h, now)
	if err != nil {
		return store.Handoff{}, fmt.Errorf("sqlite: request handoff: %w", err)
	}
	err = s.inTx(ctx, func(tx *txn) error {
		c, err := conversation(ctx, tx, h.ConversationID)
		if err != nil {
			return err
		}
		moves, err := rules.Request(c, h)
		if err != nil {
			return err
		}
		if moves {
			if err := setState(ctx, tx, c.ID, store.StatePendingHuman, c.Agent, now); err != nil {
				return err
			}
		}
		h.Channel = c.Channel
		return insertHandoff(ctx, tx, &h)
	})
	if err != nil {
		return store.Handoff{}, fmt.Errorf("sqlite: request handoff: %w", err)
	}
	return h, nil
}

func insertHandoff(ctx context.Context, tx *txn, h *store.Handoff) error {
	return tx.QueryRowContext(ctx, `INSERT INTO handoffs (conversation_id, trigger_name, reason, topic, summary,
		target, status, sentiment, agent, created_at, updated_at, claimed_at, closed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		h.ConversationID, h.Trigger, h.Reason, h.Topic, h.Summary, h.Target, h.Status, h.Sentiment, h.Agent,
		micros(h.CreatedAt), micros(h.UpdatedAt), nullMicros(h.ClaimedAt), nullMicros(h.ClosedAt),
	).Scan(&h.ID)
}

// Handoffs returns the conversation's handoffs oldest first.
func (s *Store) Handoffs(ctx context.Context, id store.ConversationID) ([]store.Handoff, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+handoffCols+` FROM `+handoffFrom+`
		WHERE h.conversation_id = ? ORDER BY h.id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoffs of %s: %w", id, err)
	}
	out, err := collect(rows, scanHandoff)
	if err == nil && len(out) == 0 {
		err = conversationExists(ctx, s.read, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoffs of %s: %w", id, err)
	}
	return out, nil
}
