package store

import "time"

// OutboxItem is a reply or notification still to deliver to an external
// service. It goes through the outbox, with retries and an idempotency key,
// so a crash or an outage loses nothing and sends nothing twice.
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
	LastError     string
	CreatedAt     time.Time
}
