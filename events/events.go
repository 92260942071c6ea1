// Package events is the conversation bus: what happened to a conversation,
// published after the store committed it, to every subscriber on every
// instance. An event carries ids and kinds only; subscribers read the rows
// from the store. A subscriber that missed events (its buffer overflowed,
// or the bus lost its connection) is told so through Lagged and catches up
// from the store, so nothing is lost and a slow subscriber never blocks the
// others.
//
// Two implementations share the Bus interface: InProcess, for one instance
// (the embedded default), and Postgres, LISTEN/NOTIFY through pgx, so that
// several instances on one database see each other's events.
package events

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/store"
)

// Kind says what happened.
type Kind string

// The event kinds.
const (
	// Message: a message was stored (customer, AI, agent or system);
	// MessageID names it.
	Message Kind = "message"
	// State: the conversation's state changed; State is the new one and
	// Agent who made the change (returned to the AI, resolved).
	State Kind = "state"
	// Handoff: a handoff (or follow-up) was recorded; HandoffID names it.
	Handoff Kind = "handoff"
	// Claimed: Agent claimed the conversation (state human).
	Claimed Kind = "claimed"
	// Delivery: an outbox item was delivered or given up on; OutboxID
	// names it and the item's row says which.
	Delivery Kind = "delivery"
	// Outbox: an item was enqueued; delivery workers wake up.
	Outbox Kind = "outbox"
	// Presence: Agent came online (Online true) or went offline.
	Presence Kind = "presence"
)

// Event is one thing that happened to a conversation. State is the
// conversation's state after the event, so that agent streams can tell
// what concerns them without a read.
type Event struct {
	Kind           Kind                 `json:"k"`
	ConversationID store.ConversationID `json:"c,omitempty"`
	State          store.State          `json:"s,omitempty"`
	MessageID      int64                `json:"m,omitempty"`
	HandoffID      int64                `json:"h,omitempty"`
	OutboxID       int64                `json:"o,omitempty"`
	Agent          string               `json:"a,omitempty"`
	Online         bool                 `json:"on,omitempty"`
	// Instance is the publishing instance, set by the bus.
	Instance string `json:"i,omitempty"`
}

// MaxEventBytes bounds an encoded event: far below PostgreSQL's 8,000-byte
// NOTIFY payload, and plenty for ids.
const MaxEventBytes = 1024

// Encode is the event's wire form.
func (e Event) Encode() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("events: encode: %w", err)
	}
	if len(b) > MaxEventBytes {
		return nil, fmt.Errorf("events: encoded event is %d bytes, at most %d", len(b), MaxEventBytes)
	}
	return b, nil
}

// Decode reads an event's wire form.
func Decode(b []byte) (Event, error) {
	var e Event
	if len(b) > MaxEventBytes {
		return e, fmt.Errorf("events: event is %d bytes, at most %d", len(b), MaxEventBytes)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("events: decode: %w", err)
	}
	if e.Kind == "" {
		return e, fmt.Errorf("events: decode: no kind")
	}
	return e, nil
}

// Filter selects the events a subscription receives.
type Filter struct {
	// ConversationID, when set, selects that conversation's events only.
	ConversationID store.ConversationID
	// Kinds, when not empty, selects those kinds only.
	Kinds []Kind
}

// Bus publishes events to every subscriber on every instance.
type Bus interface {
	// Publish sends e to every matching subscriber. Call it after the
	// store committed what e describes, never before.
	Publish(ctx context.Context, e Event) error
	// Subscribe opens a subscription; Close it when done.
	Subscribe(f Filter) *Subscription
	// Close ends every subscription and releases the bus.
	Close() error
}
