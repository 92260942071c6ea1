package handoff

import (
	"time"

	"switchboard/store"
)

// Packet is the context a human gets with a conversation handed to them:
// who and where, why it was handed over, what the customer told us about
// themselves, and the whole transcript. It is data only; the desk shows
// it, and channels that post it outside (Slack, forwarded mail) send
// Masked copies.
type Packet struct {
	ConversationID string           `json:"id"`
	Link           string           `json:"link"` // the conversation in the agent console
	Channel        string           `json:"channel"`
	Customer       string           `json:"customer"` // identity on the channel: number, address, visitor id
	State          string           `json:"state"`
	Agent          string           `json:"agent"` // the claiming agent, "" if none
	Handoff        *PacketHandoff   `json:"handoff"`
	Details        *CustomerDetails `json:"details"`
	Transcript     []PacketMessage  `json:"transcript"`
	// Sentiment is the customer's when the conversation was last handed
	// over or flagged for follow-up, -1 (angry) to 1 (pleased); 0 if never.
	Sentiment float64 `json:"sentiment"`
	// Language is the conversation's as an ISO 639-1 code.
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PacketMessage is one message of the transcript.
type PacketMessage struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// PacketHandoff is the handoff that brought the conversation to humans.
type PacketHandoff struct {
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

// language is every conversation's: the policy's classifiers, the
// sentiment lexicon and the embedded responder are English only, so
// there is nothing yet to tell apart.
const language = "en"

// BuildPacket assembles the packet from what the store returned for one
// conversation: its messages and its handoffs, oldest first. link is where
// the agent console shows it.
func BuildPacket(c store.Conversation, ms []store.Message, hs []store.Handoff, link string) Packet {
	p := Packet{
		ConversationID: string(c.ID), Link: link, Channel: string(c.Channel), Customer: c.Customer, State: string(c.State),
		Agent: c.Agent, Handoff: LatestHandoff(hs), Details: LatestDetails(ms), Transcript: make([]PacketMessage, 0, len(ms)),
		Language: language, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	for _, m := range ms {
		p.Transcript = append(p.Transcript, PacketMessage{ID: m.ID, Role: string(m.Role), Text: m.Text, CreatedAt: m.CreatedAt})
	}
	if len(hs) > 0 {
		p.Sentiment = hs[len(hs)-1].Sentiment
	}
	return p
}

// LatestHandoff is the conversation's most recent handoff to a person;
// follow-ups (nobody could take it then) are not.
func LatestHandoff(hs []store.Handoff) *PacketHandoff {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Status != store.HandoffFollowUp {
			return ToPacketHandoff(hs[i])
		}
	}
	return nil
}

// ToPacketHandoff is h as a packet (and the API) shows it.
func ToPacketHandoff(h store.Handoff) *PacketHandoff {
	return &PacketHandoff{Trigger: h.Trigger, Reason: h.Reason, Topic: h.Topic, Summary: h.Summary,
		Sentiment: h.Sentiment, Status: h.Status, Target: h.Target, Agent: h.Agent, CreatedAt: h.CreatedAt}
}

// Masked returns a copy of p to send outside the gateway (a Slack post, a
// forwarded mail): the handoff summary, the transcript's texts and the
// customer's details pass through m. p itself is left as it was.
func (p Packet) Masked(m *Masker) Packet {
	if p.Handoff != nil {
		h := *p.Handoff
		h.Summary = m.Mask(h.Summary)
		p.Handoff = &h
	}
	if p.Details != nil {
		d := p.Details.masked(m)
		p.Details = &d
	}
	if p.Transcript != nil {
		ts := make([]PacketMessage, len(p.Transcript))
		for i, msg := range p.Transcript {
			msg.Text = m.Mask(msg.Text)
			ts[i] = msg
		}
		p.Transcript = ts
	}
	return p
}
