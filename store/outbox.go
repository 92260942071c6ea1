package store

import "time"

// OutboxItem is a reply or notification still to deliver to an external
// service. It goes through the outbox, with retries and an idempotency key,
// so a crash or an outage loses nothing and sends nothing twice.
//
// An item is pending until it is delivered (DeliveredAt) or given up on
// (FailedAt); either is final.
type OutboxItem struct {
	ID             int64
	ConversationID ConversationID // "" when the item belongs to no conversation
	Destination    string
	Payload        []byte

	// IdempotencyKey is required and globally unique; the receiving service
	// gets it too where it supports one.
	IdempotencyKey string

	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	// FailedAt is when delivery was given up on: the item was too old, or
	// the service refused it for good. LastError says why.
	FailedAt  *time.Time
	LastError string
	CreatedAt time.Time
}

// OutboxStats describes the pending items: neither delivered nor given up.
type OutboxStats struct {
	// Depth is how many items are pending.
	Depth int
	// Due is how many of them may be sent now: NextAttemptAt is not after
	// the time asked about, and no worker holds a lease on them.
	Due int
	// Oldest is the CreatedAt of the oldest pending item; zero when none is.
	Oldest time.Time
}
