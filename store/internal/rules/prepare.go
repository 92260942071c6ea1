// Package rules holds what both store implementations must agree on and
// should not each write for themselves: the defaults and checks applied to
// records before they are written, and the conversation state machine.
package rules

import (
	"fmt"
	"strings"
	"time"

	"switchboard/store"
)

// Time returns t as the store keeps it: UTC, truncated to the microsecond,
// which both SQLite (integer microseconds) and PostgreSQL (timestamptz) hold
// exactly, so a value reads back equal to what the write returned.
func Time(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// TimePtr is Time for optional timestamps.
func TimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// Now is the store's clock reading, already in stored form.
func Now() time.Time { return Time(time.Now()) }

// orNow returns t in stored form, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return Time(t)
}

// Conversation checks c's channel and state and fills in its ID, state and
// timestamps before it is created.
func Conversation(c store.Conversation, now time.Time) (store.Conversation, error) {
	if c.ID == "" {
		id, err := store.NewConversationID()
		if err != nil {
			return c, err
		}
		c.ID = id
	}
	if c.State == "" {
		c.State = store.StateAI
	}
	if !c.State.Valid() {
		return c, fmt.Errorf("conversation state %q: %w", c.State, store.ErrInvalid)
	}
	if !c.Channel.Valid() {
		return c, fmt.Errorf("conversation channel %q: %w", c.Channel, store.ErrInvalid)
	}
	if err := noNUL("conversation", c.Customer, c.ThreadKey, c.Agent); err != nil {
		return c, err
	}
	c.CreatedAt = orNow(c.CreatedAt, now)
	c.UpdatedAt = orNow(c.UpdatedAt, c.CreatedAt)
	return c, nil
}

// Thread checks the arguments of ConversationByThread: an unknown channel is
// store.ErrInvalid, and an empty key, which names no thread, finds nothing.
func Thread(channel store.Channel, key string) error {
	if !channel.Valid() {
		return fmt.Errorf("thread on channel %q: %w", channel, store.ErrInvalid)
	}
	if key == "" {
		return fmt.Errorf("empty thread key on %s: %w", channel, store.ErrNotFound)
	}
	return nil
}

// Message checks m's role and fills in its timestamp before it is appended.
func Message(m store.Message, now time.Time) (store.Message, error) {
	if !m.Role.Valid() {
		return m, fmt.Errorf("message role %q: %w", m.Role, store.ErrInvalid)
	}
	if err := noNUL("message", m.Text, m.Gap, m.IdempotencyKey, m.Agent); err != nil {
		return m, err
	}
	m.ID = 0
	m.CreatedAt = orNow(m.CreatedAt, now)
	return m, nil
}

// Handoff fills in h's status and timestamps before it is requested. Only
// pending and follow_up make sense for a new handoff; the others are reached
// through Claim, Resolve and ReturnToAI.
func Handoff(h store.Handoff, now time.Time) (store.Handoff, error) {
	if h.Status == "" {
		h.Status = store.HandoffPending
	}
	if h.Status != store.HandoffPending && h.Status != store.HandoffFollowUp {
		return h, fmt.Errorf("new handoff status %q: %w", h.Status, store.ErrInvalid)
	}
	if err := noNUL("handoff", h.Trigger, h.Reason, h.Topic, h.Summary, h.Target, h.Agent); err != nil {
		return h, err
	}
	h.ID = 0
	h.Channel = "" // read from the conversation, never written
	h.CreatedAt = orNow(h.CreatedAt, now)
	h.UpdatedAt = orNow(h.UpdatedAt, h.CreatedAt)
	h.ClaimedAt, h.ClosedAt = TimePtr(h.ClaimedAt), TimePtr(h.ClosedAt)
	return h, nil
}

// Outbox checks it and fills in its defaults before it is enqueued.
func Outbox(it store.OutboxItem, now time.Time) (store.OutboxItem, error) {
	if it.IdempotencyKey == "" {
		return it, fmt.Errorf("outbox item without idempotency key: %w", store.ErrInvalid)
	}
	if it.Payload == nil {
		it.Payload = []byte{} // a nil slice would be written as NULL
	}
	it.ID = 0
	it.CreatedAt = orNow(it.CreatedAt, now)
	it.NextAttemptAt = orNow(it.NextAttemptAt, it.CreatedAt)
	it.DeliveredAt = TimePtr(it.DeliveredAt)
	return it, nil
}

// noNUL refuses text holding a NUL character: PostgreSQL's text cannot
// hold one, so both stores refuse it alike rather than one failing late.
func noNUL(what string, fields ...string) error {
	for _, f := range fields {
		if strings.ContainsRune(f, 0) {
			return fmt.Errorf("%s holds a NUL character: %w", what, store.ErrInvalid)
		}
	}
	return nil
}

// Limit returns the number of conversations a ListFilter asks for.
func Limit(f store.ListFilter) (int, error) {
	switch {
	case f.Limit < 0:
		return 0, fmt.Errorf("list limit %d: %w", f.Limit, store.ErrInvalid)
	case f.Limit == 0:
		return store.DefaultListLimit, nil
	}
	return f.Limit, nil
}

// States returns the filter's states as strings for a query, checking each.
func States(f store.ListFilter) ([]string, error) {
	out := make([]string, len(f.States))
	for i, s := range f.States {
		if !s.Valid() {
			return nil, fmt.Errorf("list state %q: %w", s, store.ErrInvalid)
		}
		out[i] = string(s)
	}
	return out, nil
}

// Lease checks the arguments of Due. A lease of zero would hand the same item
// to the next caller at once, which is what leasing exists to prevent.
func Lease(limit int, lease time.Duration) error {
	if limit <= 0 || lease <= 0 {
		return fmt.Errorf("due limit %d lease %s: %w", limit, lease, store.ErrInvalid)
	}
	return nil
}

// WindowLimit returns how many records HandoffsSince or Unanswered return:
// limit, or def when limit is 0.
func WindowLimit(limit, def int) (int, error) {
	switch {
	case limit < 0:
		return 0, fmt.Errorf("limit %d: %w", limit, store.ErrInvalid)
	case limit == 0:
		return def, nil
	}
	return limit, nil
}

// Since returns the stored-form bound for "created at or after since": since
// rounded up to the microsecond. Stored times are whole microseconds, so one
// stored before a sub-microsecond since must not pass the bound, as it would
// if since were truncated like the times that are written.
func Since(since time.Time) time.Time {
	t := Time(since)
	if t.Before(since) {
		t = t.Add(time.Microsecond)
	}
	return t
}

// LiveCall checks c and fills in its times before it is recorded.
func LiveCall(c store.LiveCall, now time.Time) (store.LiveCall, error) {
	if c.CallID == "" || c.Instance == "" || !c.Channel.Valid() {
		return c, fmt.Errorf("live call %q on %q of instance %q: %w", c.CallID, c.Channel, c.Instance, store.ErrInvalid)
	}
	if err := noNUL("live call", c.CallID, c.Instance); err != nil {
		return c, err
	}
	c.StartedAt = orNow(c.StartedAt, now)
	c.SeenAt = orNow(c.SeenAt, c.StartedAt)
	return c, nil
}
