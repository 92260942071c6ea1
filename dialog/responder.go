package dialog

import (
	"context"

	"switchboard/store"
)

// Roles of a Turn: the store's roles of the messages they come from, so a
// responder can tell the customer's words from its own and from a human
// agent's.
const (
	RoleCustomer = string(store.RoleCustomer)
	RoleAI       = string(store.RoleAI)
	RoleAgent    = string(store.RoleAgent)
	RoleSystem   = string(store.RoleSystem)
)

// Gaps name why a responder could not answer, in the store's fixed
// vocabulary that a handoff records so an admin can act on it (add
// knowledge, fix prompts).
const (
	// GapMissingKnowledge means the message was understood well enough to
	// look up, but nothing the responder knows answers it.
	GapMissingKnowledge = store.GapMissingKnowledge
	// GapUnclearInstructions means the message was too vague or empty to act on.
	GapUnclearInstructions = store.GapUnclearInstructions
)

// Turn is one message of the conversation as the responder sees it.
type Turn struct {
	Role string // RoleCustomer, RoleAI, RoleAgent or RoleSystem
	Text string
}

// Request is what a responder needs to write the next AI turn.
type Request struct {
	ConversationID string
	Channel        store.Channel
	// History holds the earlier turns, oldest first, without Text.
	History []Turn
	// Text is the customer's new message.
	Text string
}

// Reply is a responder's answer to a Request.
type Reply struct {
	Text string
	// Unresolved reports that the AI could not answer; the handoff policy
	// counts it as the AI's failure.
	Unresolved bool
	// Gap says why, when Unresolved: GapMissingKnowledge or
	// GapUnclearInstructions.
	Gap string
	// Source is the id of the knowledge entry the answer came from, "" if none.
	Source string
	// Score is the responder's confidence in Source, in [0, 1] for the
	// embedded responder.
	Score float64
	// Transfer: the model called its transfer_to_human tool. It is a wish,
	// not a decision: the conductor marks the AI turn and the handoff
	// policy applies the level's rules to it.
	Transfer bool
	// TransferReason is the tool's reason (customer_request,
	// missing_knowledge, missing_tool, unclear_instructions, frustration,
	// restricted_topic), and Summary its summary for the human.
	TransferReason string
	Summary        string
	// Fallback: the provider failed and the fallback responder wrote this.
	Fallback bool
}

// Responder writes the AI's next message of a conversation.
type Responder interface {
	Respond(ctx context.Context, req Request) (Reply, error)
}

// StreamResponder is a Responder that can also hand over its reply sentence
// by sentence as it is written, so a call can speak the first sentence while
// the model writes the rest.
type StreamResponder interface {
	Responder
	RespondStream(ctx context.Context, req Request, onSentence func(string)) (Reply, error)
}
