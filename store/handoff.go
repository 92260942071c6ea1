package store

import "time"

// The handoff statuses.
const (
	HandoffPending  = "pending"   // waiting for an agent
	HandoffClaimed  = "claimed"   // an agent took it
	HandoffResolved = "resolved"  // an agent resolved the conversation
	HandoffReturned = "returned"  // an agent gave the conversation back to the AI
	HandoffFollowUp = "follow_up" // nobody could take it now; a human follows up later
)

// Handoff records one request to bring a human into a conversation: why, what
// about, and what happened to it.
type Handoff struct {
	ID             int64
	ConversationID ConversationID
	// Channel is the conversation's channel. It is read-only: every read that
	// returns handoffs fills it from the conversation, and writes ignore it.
	Channel Channel

	Trigger   string // what fired: customer request, restricted topic, frustration, ...
	Reason    string // the reason in the fixed vocabulary admins act on
	Topic     string
	Summary   string
	Target    string  // where it goes: a queue, a fallback number, a helpdesk address
	Status    string  // one of the Handoff status constants
	Sentiment float64 // the customer's sentiment when the handoff was requested
	Agent     string  // the agent who claimed or closed it

	CreatedAt time.Time
	UpdatedAt time.Time
	ClaimedAt *time.Time
	ClosedAt  *time.Time
}
