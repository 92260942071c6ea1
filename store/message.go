package store

import "time"

// Role says who wrote a message.
type Role string

// The message roles.
const (
	RoleCustomer Role = "customer"
	RoleAI       Role = "ai"
	RoleAgent    Role = "agent"
	RoleSystem   Role = "system"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleCustomer, RoleAI, RoleAgent, RoleSystem:
		return true
	}
	return false
}

// The gaps behind an unresolved AI turn, the vocabulary an admin acts on.
// Responders (dialog) and the handoff reasons for the AI's failures
// (handoff) use these names.
const (
	GapMissingKnowledge    = "missing_knowledge"
	GapMissingTool         = "missing_tool"
	GapUnclearInstructions = "unclear_instructions"
)

// Message is one turn in a conversation. Every message is stored before
// anything reacts to it.
type Message struct {
	ID             int64
	ConversationID ConversationID
	Role           Role
	Text           string

	// Unresolved marks an AI turn that did not resolve the question, and Gap
	// says why (one of the Gap constants).
	Unresolved bool
	Gap        string

	// IdempotencyKey, when not empty, is unique per conversation: channels set
	// it from the provider's message id so that a redelivered webhook is
	// stored once.
	IdempotencyKey string

	// Agent is the id of the agent who wrote a RoleAgent message.
	Agent string

	CreatedAt time.Time
}
