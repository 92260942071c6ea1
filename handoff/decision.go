// Package handoff owns the handoff policy: from a conversation so far and
// the effective configuration to a Decision (hand off or not, on which
// trigger, why). It is pure: no I/O, no clocks, no randomness; callers pass
// the time in. The classifiers it uses are trained from labelled data (the
// intent model, at build time) and from the config (restricted topics, when
// the policy is built). It also owns, as data, the context packet a human
// gets with a handoff and the masking of personal data in context that
// leaves the store; the callers read and write the store. Roles and the
// AI's gaps are the store's names.
package handoff

import "switchboard/store"

// Trigger is what started a handoff.
type Trigger string

// Triggers, in the order the policy checks them.
const (
	TriggerNone        Trigger = "none"
	TriggerRestricted  Trigger = "restricted_topic"
	TriggerExplicit    Trigger = "explicit_request"
	TriggerFrustration Trigger = "frustration"
	TriggerAIDecision  Trigger = "ai_decision"
	TriggerFailedTurns Trigger = "failed_turns"
)

// Triggers lists every trigger but none, for reports and metrics.
var Triggers = []Trigger{TriggerExplicit, TriggerRestricted, TriggerFrustration, TriggerAIDecision, TriggerFailedTurns}

// Reason is why a conversation goes to humans, in words an admin can act
// on: the AI reasons say what was missing.
type Reason string

// Reasons.
const (
	ReasonNone            Reason = ""
	ReasonCustomerRequest Reason = "customer_request"
	ReasonRestrictedTopic Reason = "restricted_topic"
	ReasonFrustration     Reason = "frustration"
	ReasonUnproductive    Reason = "unproductive_conversation"
	// The AI's gaps, as the store names them on an unresolved AI turn.
	ReasonMissingKnowledge    Reason = store.GapMissingKnowledge
	ReasonMissingTool         Reason = store.GapMissingTool
	ReasonUnclearInstructions Reason = store.GapUnclearInstructions
)

// Role is who wrote a message: the store's roles.
type Role = store.Role

// Roles.
const (
	RoleCustomer = store.RoleCustomer
	RoleAI       = store.RoleAI
	RoleAgent    = store.RoleAgent
	RoleSystem   = store.RoleSystem
)

// Message is one turn as the policy sees it.
type Message struct {
	Role       Role   `json:"role"`
	Text       string `json:"text"`
	Unresolved bool   `json:"unresolved,omitempty"` // an AI turn that could not help
	Gap        string `json:"gap,omitempty"`        // what the AI lacked: missing_knowledge, missing_tool, unclear_instructions
	Transfer   bool   `json:"transfer,omitempty"`   // the AI itself asked to transfer (an LLM tool call)
	// Explicit marks a customer turn that asked for a human without words:
	// DTMF 0 on a call. It counts as a certain explicit request.
	Explicit bool `json:"explicit,omitempty"`
	// TransferReason is the reason the AI gave with Transfer, in the
	// handoff vocabulary (customer_request, frustration, restricted_topic,
	// missing_knowledge, missing_tool, unclear_instructions).
	TransferReason string `json:"transfer_reason,omitempty"`
}

// Decision is the policy's answer for one turn.
type Decision struct {
	Handoff bool    `json:"handoff"`
	Trigger Trigger `json:"trigger"`
	Topic   string  `json:"topic"`
	Reason  Reason  `json:"reason"`
	// AskForProblemStatement: the AI should ask what the problem is before
	// a transfer can happen (ai_first).
	AskForProblemStatement bool `json:"ask_for_problem_statement"`
	// FollowUp: no live transfer, but humans must follow up (ai_only on a
	// restricted topic or a request for a human).
	FollowUp bool `json:"follow_up"`
	// AfterHours: a handoff outside business hours; the customer is told
	// and a follow-up is recorded.
	AfterHours bool `json:"after_hours"`
	// Sentiment of the customer's latest message, -1 (angry) to 1 (happy).
	Sentiment float64 `json:"sentiment"`
	// Level is the effective level the decision was made on.
	Level string `json:"level"`
	// Detail explains the decision in a sentence, for admins and logs.
	Detail string `json:"detail"`
}

// SentimentLabel buckets a sentiment score the way people read it.
func SentimentLabel(s float64) string {
	switch {
	case s <= -0.05:
		return "negative"
	case s >= 0.05:
		return "positive"
	default:
		return "neutral"
	}
}
