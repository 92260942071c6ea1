package api

import (
	"time"

	"switchboard/store"
)

// Message is a message as the API shows it. Agent is the display name of
// the agent who wrote it, for agent messages.
type Message struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	Agent     string    `json:"agent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Names turns an agent id into the name customers and colleagues see.
type Names func(agentID string) string

// ToMessage is m as the API shows it.
func ToMessage(m store.Message, names Names) Message {
	out := Message{ID: m.ID, Role: string(m.Role), Text: m.Text, CreatedAt: m.CreatedAt}
	if m.Role == store.RoleAgent && names != nil {
		out.Agent = names(m.Agent)
	}
	return out
}

// ToMessages is ms as the API shows them.
func ToMessages(ms []store.Message, names Names) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, ToMessage(m, names))
	}
	return out
}

// Handoff is a handoff as the API shows it.
type Handoff struct {
	Trigger   string    `json:"trigger"`
	Reason    string    `json:"reason"`
	Topic     string    `json:"topic"`
	Summary   string    `json:"summary"`
	Sentiment float64   `json:"sentiment"`
	Status    string    `json:"status"`
	Target    string    `json:"target"`
	Agent     string    `json:"agent"`
	CreatedAt time.Time `json:"created_at"`
}

// ToHandoff is h as the API shows it.
func ToHandoff(h store.Handoff) *Handoff {
	return &Handoff{Trigger: h.Trigger, Reason: h.Reason, Topic: h.Topic, Summary: h.Summary, Sentiment: h.Sentiment,
		Status: h.Status, Target: h.Target, Agent: h.Agent, CreatedAt: h.CreatedAt}
}

// LatestHandoff is the conversation's most recent live handoff; follow-ups
// (no transfer) are not handoffs to a person.
func LatestHandoff(hs []store.Handoff) *Handoff {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Status != store.HandoffFollowUp {
			return ToHandoff(hs[i])
		}
	}
	return nil
}

// Event is a stream event (api/openapi.yaml lists them).
type Event struct {
	Type           string   `json:"type"`
	ConversationID string   `json:"conversation_id"`
	State          string   `json:"state,omitempty"`
	Message        *Message `json:"message,omitempty"`
	Handoff        *Handoff `json:"handoff,omitempty"`
	Text           string   `json:"text,omitempty"`
	Agent          string   `json:"agent,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// The stream event types.
const (
	EventMessage      = "message"
	EventHandoff      = "handoff"
	EventAgentJoined  = "agent_joined"
	EventResolved     = "resolved"
	EventReturnedToAI = "returned_to_ai"
	EventQueue        = "queue"
	EventDelivery     = "delivery"
	EventPresence     = "presence"
	EventError        = "error"
)
