package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// CallStarted records a call under way; see store.Store.
func (s *Store) CallStarted(ctx context.Context, c store.LiveCall) error {
	c, err := rules.LiveCall(c, rules.Now())
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO live_calls (call_id, channel, instance, started_at, seen_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (call_id) DO UPDATE SET channel = $2, instance = $3, started_at = $4, seen_at = $5`,
			c.CallID, c.Channel, c.Instance, c.StartedAt, c.SeenAt)
	}
	if err != nil {
		return fmt.Errorf("postgres: call %q started: %w", c.CallID, err)
	}
	return nil
}

// CallEnded forgets a call; see store.Store.
func (s *Store) CallEnded(ctx context.Context, callID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM live_calls WHERE call_id = $1`, callID); err != nil {
		return fmt.Errorf("postgres: call %q ended: %w", callID, err)
	}
	return nil
}

// TouchCalls is an instance's heartbeat; see store.Store.
func (s *Store) TouchCalls(ctx context.Context, instance string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE live_calls SET seen_at = $2 WHERE instance = $1`, instance, rules.Time(at)); err != nil {
		return fmt.Errorf("postgres: touch calls of %s: %w", instance, err)
	}
	return nil
}

// TakeStaleCalls removes and returns calls whose instance went quiet; see
// store.Store. SKIP LOCKED hands each call to one of concurrent takers.
func (s *Store) TakeStaleCalls(ctx context.Context, before time.Time, limit int) ([]store.LiveCall, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: take stale calls: limit %d: %w", limit, store.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `WITH taken AS (
			DELETE FROM live_calls WHERE call_id IN (
				SELECT call_id FROM live_calls WHERE seen_at < $1 ORDER BY seen_at, call_id LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING call_id, channel, instance, started_at, seen_at)
		SELECT * FROM taken ORDER BY seen_at, call_id`, rules.Time(before), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: take stale calls: %w", err)
	}
	out, err := collect(rows, func(r pgx.Row) (store.LiveCall, error) {
		var c store.LiveCall
		err := r.Scan(&c.CallID, &c.Channel, &c.Instance, &c.StartedAt, &c.SeenAt)
		c.StartedAt, c.SeenAt = utc(c.StartedAt), utc(c.SeenAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: take stale calls: %w", err)
	}
	return out, nil
}
