package desk

import (
	"context"
	"errors"
	"net/http"

	"switchboard/api"
	"switchboard/events"
	"switchboard/store"
)

// stream is every conversation's events that concern agents, from any
// instance. An open stream is what makes its agent online.
func (d *Desk) stream(w http.ResponseWriter, r *http.Request) {
	var who Agent
	conn, ok := api.OpenStream(w, r, d.o.Live().AllowedOrigins, d.o.Log, func(_ context.Context, tok string) error {
		a, ok := d.o.Agents.Authenticate(tok)
		if !ok {
			return api.Errorf(http.StatusUnauthorized, "wrong or missing agent token")
		}
		who = a
		return nil
	})
	if !ok {
		return
	}
	defer conn.CloseNow()
	sub := d.o.Bus.Subscribe(events.Filter{})
	defer sub.Close()
	ctx := conn.CloseRead(r.Context())
	disconnect := d.o.Presence.Connect(ctx, who.ID)
	defer disconnect()
	api.Pump(ctx, conn, sub, d.newAgentView(), d.o.Log)
}

// agentView renders bus events for an agent's stream: what happens in
// conversations that are or were with humans, and a "queue" nudge whenever
// the queue changed. The console refetches on a nudge, so catching up is
// one nudge.
type agentView struct {
	d *Desk
	// online is who this stream was last told is online: every instance
	// repeats its agents' presence each heartbeat, and a console needs to
	// hear only the changes.
	online map[string]bool
}

// newAgentView starts a view that knows who is online now, so that the
// first change it hears (someone leaving) is told.
func (d *Desk) newAgentView() *agentView {
	v := &agentView{d: d, online: map[string]bool{}}
	for _, id := range d.o.Presence.Online() {
		v.online[id] = true
	}
	return v
}

func (v *agentView) Render(ctx context.Context, e events.Event) ([]api.Event, error) {
	id := string(e.ConversationID)
	queue := api.Event{Type: api.EventQueue, ConversationID: id}
	switch e.Kind {
	case events.Message:
		if e.State == store.StateAI || e.State == "" {
			return nil, nil // the AI's own conversations are not the agents' business
		}
		m, err := v.d.o.Store.Message(ctx, e.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		wm := api.ToMessage(m, v.d.Names())
		return []api.Event{{Type: api.EventMessage, ConversationID: id, Message: &wm, State: string(e.State)}}, nil
	case events.Handoff:
		return []api.Event{{Type: api.EventHandoff, ConversationID: id, State: string(e.State)}, queue}, nil
	case events.Claimed:
		return []api.Event{{Type: api.EventAgentJoined, ConversationID: id, Agent: v.d.o.Agents.Name(e.Agent),
			State: string(store.StateHuman)}, queue}, nil
	case events.State:
		t := api.EventResolved
		if e.State == store.StateAI {
			t = api.EventReturnedToAI
		}
		return []api.Event{{Type: t, ConversationID: id, Agent: v.d.o.Agents.Name(e.Agent), State: string(e.State)}, queue}, nil
	case events.Delivery:
		return []api.Event{{Type: api.EventDelivery, ConversationID: id}}, nil
	case events.Presence:
		if v.online[e.Agent] == e.Online {
			return nil, nil
		}
		v.online[e.Agent] = e.Online
		return []api.Event{{Type: api.EventPresence, Agent: v.d.o.Agents.Name(e.Agent)}}, nil
	}
	return nil, nil
}

func (v *agentView) CatchUp(context.Context) ([]api.Event, error) {
	return []api.Event{{Type: api.EventQueue}}, nil
}
