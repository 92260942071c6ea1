package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// ConversationID names one conversation: one thread with one customer on one
// channel.
type ConversationID string

// NewConversationID returns a random 128-bit ID in hex. IDs are random rather
// than sequential so that links to the agent console cannot be guessed.
func NewConversationID() (ConversationID, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: conversation id: %w", err)
	}
	return ConversationID(hex.EncodeToString(b[:])), nil
}

// State is where a conversation stands between the AI and the humans.
type State string

// The conversation states: ai -> pending_human -> human -> resolved, or back
// to ai when an agent returns the conversation. The AI answers only in StateAI.
const (
	StateAI           State = "ai"
	StatePendingHuman State = "pending_human"
	StateHuman        State = "human"
	StateResolved     State = "resolved"
)

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	switch s {
	case StateAI, StatePendingHuman, StateHuman, StateResolved:
		return true
	}
	return false
}

// Conversation is one thread with one customer on one channel.
type Conversation struct {
	ID       ConversationID
	Channel  Channel
	Customer string // identity on the channel: phone number, email, visitor id
	State    State
	Agent    string // the claiming agent, "" if none
	// ThreadKey is the channel's own name for the thread, "" if it has
	// none: an SMS number pair, an email's first Message-ID, a Slack thread
	// ts, a call's Call-ID. It is unique per channel, so an inbound message
	// finds its conversation with ConversationByThread.
	ThreadKey string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// DefaultListLimit is how many conversations ListConversations returns when
// ListFilter.Limit is 0.
const DefaultListLimit = 100

// ListFilter selects conversations for ListConversations.
type ListFilter struct {
	States []State // none means all states
	Limit  int     // 0 means DefaultListLimit
}
