package delivery

import (
	"context"
	"fmt"
	"time"

	"switchboard/config"
)

// Health is the state of the outbox, for a readiness check.
type Health struct {
	Depth     int           // items still to deliver
	Due       int           // of those, the ones waiting for a worker now
	OldestAge time.Duration // age of the oldest item still to deliver; 0 when none
	// Stuck reports that the oldest item still to deliver is older than
	// StuckAfter: the outbox is not draining. The cause may be this
	// instance (no worker running, the database) or a channel's service
	// refusing everything for a while.
	Stuck      bool
	StuckAfter time.Duration
}

// StuckAfter is the age past which an undelivered item means the outbox is
// stuck: ten minutes, or two max_backoff waits when those are longer, so
// that an item merely waiting out its backoff is not taken for stuck; but
// no more than half of max_age, so it is reported well before items are
// given up.
func StuckAfter(cfg config.Delivery) time.Duration {
	return min(max(10*time.Minute, 2*cfg.MaxBackoff), cfg.MaxAge/2)
}

// Health reads the outbox's state from the store. It does not need Run: an
// outbox that no worker drains shows up as stuck.
func (w *Worker) Health(ctx context.Context) (Health, error) {
	now := w.now()
	st, err := w.st.OutboxStats(ctx, now)
	if err != nil {
		return Health{}, fmt.Errorf("delivery: health: %w", err)
	}
	h := Health{Depth: st.Depth, Due: st.Due, OldestAge: oldestAge(st, now), StuckAfter: StuckAfter(w.cfg)}
	h.Stuck = h.Depth > 0 && h.OldestAge > h.StuckAfter
	return h, nil
}
