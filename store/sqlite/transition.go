package sqlite

import (
	"context"
	"fmt"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// Claim gives a pending_human conversation to agent; see store.Store.
func (s *Store) Claim(ctx context.Context, id store.ConversationID, agent string) error {
	return s.transition(ctx, id, agent, rules.Claim)
}

// Resolve closes a conversation waiting for or held by agent; see store.Store.
func (s *Store) Resolve(ctx context.Context, id store.ConversationID, agent string) error {
	return s.transition(ctx, id, agent, rules.Resolve)
}

// ReturnToAI gives a conversation back to the AI; see store.Store.
func (s *Store) ReturnToAI(ctx context.Context, id store.ConversationID, agent string) error {
	return s.transition(ctx, id, agent, rules.ReturnToAI)
}

// transition reads the conversation, lets decide judge the agent's action and
// writes the change, all in one write transaction. Because transactions on the
// single writer run one at a time, concurrent claimers are decided in turn and
// every one after the first sees the conversation already held.
func (s *Store) transition(ctx context.Context, id store.ConversationID, agent string, decide rules.Decide) error {
	now := rules.Now()
	err := s.inTx(ctx, func(tx *txn) error {
		c, err := conversation(ctx, tx, id)
		if err != nil {
			return err
		}
		ch, noop, err := decide(c, agent)
		if err != nil || noop {
			return err
		}
		if err := setState(ctx, tx, id, ch.State, ch.Agent, now); err != nil {
			return err
		}
		return updateOpenHandoff(ctx, tx, id, agent, ch, now)
	})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func setState(ctx context.Context, tx *txn, id store.ConversationID, st store.State, agent string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET state = ?, agent = ?, updated_at = max(updated_at, ?)
		WHERE id = ?`, st, agent, micros(now), id)
	if err != nil {
		return fmt.Errorf("conversation %s to %s: %w", id, st, err)
	}
	return nil
}

// updateOpenHandoff moves the newest pending or claimed handoff on. Its agent
// is kept once set, so a returned or resolved handoff names who claimed it,
// or else who closed it.
func updateOpenHandoff(ctx context.Context, tx *txn, id store.ConversationID, agent string, ch rules.Change, now time.Time) error {
	var claimed, closed *time.Time
	if ch.Claims {
		claimed = &now
	}
	if ch.Closes {
		closed = &now
	}
	_, err := tx.ExecContext(ctx, `UPDATE handoffs SET status = ?, agent = coalesce(nullif(agent, ''), ?),
			updated_at = ?, claimed_at = coalesce(claimed_at, ?), closed_at = coalesce(closed_at, ?)
		WHERE id = (SELECT id FROM handoffs WHERE conversation_id = ? AND status IN ('pending', 'claimed')
			ORDER BY id DESC LIMIT 1)`,
		ch.Handoff, agent, micros(now), nullMicros(claimed), nullMicros(closed), id)
	if err != nil {
		return fmt.Errorf("handoff of %s to %s: %w", id, ch.Handoff, err)
	}
	return nil
}
