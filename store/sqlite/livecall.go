package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

// CallStarted records a call under way; see store.Store.
func (s *Store) CallStarted(ctx context.Context, c store.LiveCall) error {
	c, err := rules.LiveCall(c, rules.Now())
	if err == nil {
		_, err = s.write.ExecContext(ctx, `INSERT OR REPLACE INTO live_calls (call_id, channel, instance, started_at, seen_at)
			VALUES (?, ?, ?, ?, ?)`, c.CallID, c.Channel, c.Instance, micros(c.StartedAt), micros(c.SeenAt))
	}
	if err != nil {
		return fmt.Errorf("sqlite: call %q started: %w", c.CallID, err)
	}
	return nil
}

// CallEnded forgets a call; see store.Store.
func (s *Store) CallEnded(ctx context.Context, callID string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM live_calls WHERE call_id = ?`, callID); err != nil {
		return fmt.Errorf("sqlite: call %q ended: %w", callID, err)
	}
	return nil
}

// TouchCalls is an instance's heartbeat; see store.Store.
func (s *Store) TouchCalls(ctx context.Context, instance string, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE live_calls SET seen_at = ? WHERE instance = ?`,
		micros(rules.Time(at)), instance); err != nil {
		return fmt.Errorf("sqlite: touch calls of %s: %w", instance, err)
	}
	return nil
}

// TakeStaleCalls removes and returns calls whose instance went quiet; see
// store.Store.
func (s *Store) TakeStaleCalls(ctx context.Context, before time.Time, limit int) ([]store.LiveCall, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: take stale calls: limit %d: %w", limit, store.ErrInvalid)
	}
	rows, err := s.write.QueryContext(ctx, `DELETE FROM live_calls WHERE call_id IN (
			SELECT call_id FROM live_calls WHERE seen_at < ? ORDER BY seen_at, call_id LIMIT ?)
		RETURNING call_id, channel, instance, started_at, seen_at`, micros(rules.Time(before)), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: take stale calls: %w", err)
	}
	out, err := collect(rows, func(r scanner) (store.LiveCall, error) {
		var c store.LiveCall
		var started, seen int64
		err := r.Scan(&c.CallID, &c.Channel, &c.Instance, &started, &seen)
		c.StartedAt, c.SeenAt = fromMicros(started), fromMicros(seen)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: take stale calls: %w", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(out, func(a, b store.LiveCall) int { return a.SeenAt.Compare(b.SeenAt) })
	return out, nil
}
