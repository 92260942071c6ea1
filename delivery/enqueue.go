package delivery

import (
	"context"
	"fmt"

	"switchboard/events"
	"switchboard/store"
)

// Enqueue stores it in the outbox (once per IdempotencyKey: the same key
// again returns the stored item) and publishes an Outbox event, so that the
// workers send it at once instead of at their next poll. When only the
// event fails, the item is returned with the error: it is stored and goes
// out at the next poll.
func Enqueue(ctx context.Context, st store.Store, bus events.Bus, it store.OutboxItem) (store.OutboxItem, error) {
	stored, _, err := st.Enqueue(ctx, it)
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("delivery: enqueue: %w", err)
	}
	e := events.Event{Kind: events.Outbox, ConversationID: stored.ConversationID, OutboxID: stored.ID}
	if err := bus.Publish(ctx, e); err != nil {
		return stored, fmt.Errorf("delivery: enqueued item %d, but no wake-up: %w", stored.ID, err)
	}
	return stored, nil
}
