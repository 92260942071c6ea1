package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

// transition locks the conversation row, lets decide judge the agent's action
// and writes the change in the same transaction. Concurrent claimers queue on
// the row lock; each later one reads the winner's committed state and gets
// ErrAlreadyClaimed.
func (s *Store) transition(ctx context.Context, id store.ConversationID, agent string, decide rules.Decide) error {
	now := rules.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := conversation(ctx, tx, id, "FOR UPDATE")
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
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func setState(ctx context.Context, tx pgx.Tx, id store.ConversationID, st store.State, agent string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE conversations SET state = $1, agent = $2, updated_at = greatest(updated_at, $3)
		WHERE id = $4`, st, agent, now, id)
	if err != nil {
		return fmt.Errorf("conversation %s to %s: %w", id, st, err)
	}
	return nil
}

// updateOpenHandoff moves the newest pending or claimed handoff on. Its agent
// is kept once set, so a returned or resolved handoff names who claimed it,
// or else who closed it.
func updateOpenHandoff(ctx context.Context, tx pgx.Tx, id store.ConversationID, agent string, ch rules.Change, now time.Time) error {
	var claimed, closed *time.Time
	if ch.Claims {
		claimed = &now
	}
	if ch.Closes {
		closed = &now
	}
	_, err := tx.Exec(ctx, `UPDATE handoffs SET status = $1, agent = coalesce(nullif(agent, ''), $2),
			updated_at = $3, claimed_at = coalesce(claimed_at, $4), closed_at = coalesce(closed_at, $5)
		WHERE id = (SELECT id FROM handoffs WHERE conversation_id = $6 AND status IN ('pending', 'claimed')
			ORDER BY id DESC LIMIT 1)`,
		ch.Handoff, agent, now, claimed, closed, id)
	if err != nil {
		return fmt.Errorf("handoff of %s to %s: %w", id, ch.Handoff, err)
	}
	return nil
}
