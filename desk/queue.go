package desk

import (
	"context"
	"net/http"
	"time"

	"switchboard/api"
	"switchboard/handoff"
	"switchboard/store"
)

// packet is the context packet as the console shows it: the structured
// packet handoff/ builds, with what the desk knows besides.
type packet struct {
	handoff.Packet
	// Transcript shadows the packet's to add agents' names.
	Transcript []api.Message `json:"transcript"`
	AgentName  string        `json:"agent_name,omitempty"`
	// CanReply says whether the conversation's channel can still carry an
	// agent's reply; ReplyNote says why not (a call that has ended).
	CanReply  bool   `json:"can_reply"`
	ReplyNote string `json:"reply_note,omitempty"`
	// WaitingSince is when the open handoff was requested, while no agent
	// holds the conversation.
	WaitingSince *time.Time `json:"waiting_since,omitempty"`
}

func (d *Desk) packet(ctx context.Context, c store.Conversation) (packet, error) {
	ms, err := d.o.Store.Messages(ctx, c.ID)
	if err != nil {
		return packet{}, err
	}
	hs, err := d.o.Store.Handoffs(ctx, c.ID)
	if err != nil {
		return packet{}, err
	}
	p := packet{Packet: handoff.BuildPacket(c, ms, hs, "/agent?conversation="+string(c.ID)),
		Transcript: api.ToMessages(ms, d.Names())}
	if c.Agent != "" {
		p.AgentName = d.o.Agents.Name(c.Agent)
	}
	p.CanReply, p.ReplyNote = d.canReply(c, hs)
	if c.State == store.StatePendingHuman {
		for i := len(hs) - 1; i >= 0; i-- {
			if hs[i].Status == store.HandoffPending {
				at := hs[i].CreatedAt
				p.WaitingSince = &at
				break
			}
		}
	}
	return p, nil
}

// canReply says whether an agent's reply can reach the customer.
func (d *Desk) canReply(c store.Conversation, hs []store.Handoff) (bool, string) {
	if _, ok := d.o.Routes[string(c.Channel)]; ok {
		return true, ""
	}
	note := "this channel cannot carry a written reply"
	if string(c.Channel) == "voice" {
		note = "a phone call: the caller was transferred or has hung up"
		if n := len(hs); n > 0 && hs[n-1].Target != "" {
			note = "a phone call, transferred to " + hs[n-1].Target + "; it has ended here"
		}
	}
	return false, note
}

func (d *Desk) queue(w http.ResponseWriter, r *http.Request, _ Agent) error {
	cs, err := d.o.Store.ListConversations(r.Context(), store.ListFilter{States: []store.State{store.StatePendingHuman, store.StateHuman}})
	if err != nil {
		return err
	}
	out := make([]packet, 0, len(cs))
	for _, c := range cs {
		p, err := d.packet(r.Context(), c)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	online := d.o.Presence.Online()
	api.WriteJSON(w, http.StatusOK, map[string]any{"conversations": out, "online": online, "online_names": d.names(online)})
	return nil
}

func (d *Desk) conversation(w http.ResponseWriter, r *http.Request, _ Agent) error {
	c, err := d.o.Store.Conversation(r.Context(), store.ConversationID(r.PathValue("id")))
	if err != nil {
		return err
	}
	p, err := d.packet(r.Context(), c)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, p)
	return nil
}
