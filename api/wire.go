package api

import (
	"time"

	"switchboard/handoff"
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

// Handoff is a handoff as the API shows it: as the context packet does.
type Handoff = handoff.PacketHandoff

// ToHandoff is h as the API shows it.
func ToHandoff(h store.Handoff) *Handoff { return handoff.ToPacketHandoff(h) }

// LatestHandoff is the conversation's most recent live handoff; follow-ups
// (no transfer) are not handoffs to a person.
func LatestHandoff(hs []store.Handoff) *Handoff { return handoff.LatestHandoff(hs) }

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
