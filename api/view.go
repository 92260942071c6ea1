package api

import (
	"context"
	"errors"
	"fmt"

	"switchboard/events"
	"switchboard/store"
)

// View renders one conversation's bus events for a stream that shows that
// conversation (the visitor's widget). It remembers what the stream has
// shown, so events it missed are caught up from the store once each.
type View struct {
	st    store.Store
	names Names
	id    store.ConversationID
	seen  map[int64]bool
	state store.State
}

var _ Renderer = (*View)(nil)

// NewView starts a view of c whose client already has c's messages (it
// fetches the history when it opens the stream).
func NewView(ctx context.Context, st store.Store, names Names, c store.Conversation) (*View, error) {
	ms, err := st.Messages(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", c.ID, err)
	}
	v := &View{st: st, names: names, id: c.ID, seen: make(map[int64]bool, len(ms)), state: c.State}
	for _, m := range ms {
		v.seen[m.ID] = true
	}
	return v, nil
}

// Render is what e shows on the conversation's stream.
func (v *View) Render(ctx context.Context, e events.Event) ([]Event, error) {
	if e.ConversationID != v.id {
		return nil, nil
	}
	switch e.Kind {
	case events.Message:
		if v.seen[e.MessageID] {
			return nil, nil
		}
		m, err := v.st.Message(ctx, e.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("view %s: %w", v.id, err)
		}
		return v.message(m), nil
	case events.Handoff:
		return v.handoff(ctx, e.HandoffID, e.MessageID)
	case events.Claimed:
		return v.changeState(store.StateHuman, e.Agent), nil
	case events.State:
		return v.changeState(e.State, e.Agent), nil
	}
	return nil, nil
}

// CatchUp shows the messages the stream missed and where the
// conversation now stands.
func (v *View) CatchUp(ctx context.Context) ([]Event, error) {
	ms, err := v.st.Messages(ctx, v.id)
	if err != nil {
		return nil, fmt.Errorf("view %s: catch up: %w", v.id, err)
	}
	var out []Event
	for _, m := range ms {
		if !v.seen[m.ID] {
			out = append(out, v.message(m)...)
		}
	}
	c, err := v.st.Conversation(ctx, v.id)
	if err != nil {
		return nil, fmt.Errorf("view %s: catch up: %w", v.id, err)
	}
	return append(out, v.changeState(c.State, c.Agent)...), nil
}

func (v *View) message(m store.Message) []Event {
	if m.ConversationID != v.id {
		return nil
	}
	v.seen[m.ID] = true
	wm := ToMessage(m, v.names)
	return []Event{{Type: EventMessage, ConversationID: string(v.id), Message: &wm}}
}

// handoff is the handoff event, with the words the customer was told
// (the notice message the event names) for the page's own banner.
func (v *View) handoff(ctx context.Context, id, notice int64) ([]Event, error) {
	hs, err := v.st.Handoffs(ctx, v.id)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", v.id, err)
	}
	for _, h := range hs {
		if h.ID != id || h.Status == store.HandoffFollowUp {
			continue
		}
		v.state = store.StatePendingHuman
		ev := Event{Type: EventHandoff, ConversationID: string(v.id), Handoff: ToHandoff(h), State: string(v.state)}
		if notice != 0 {
			m, err := v.st.Message(ctx, notice)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("view %s: %w", v.id, err)
			}
			ev.Text = m.Text
		}
		return []Event{ev}, nil
	}
	return nil, nil
}

// changeState is the event the visitor sees when the conversation moves
// to state; nothing when it was there already.
func (v *View) changeState(state store.State, agent string) []Event {
	if state == v.state || state == "" {
		return nil
	}
	prev := v.state
	v.state = state
	ev := Event{ConversationID: string(v.id), State: string(state)}
	switch state {
	case store.StateHuman:
		ev.Type = EventAgentJoined
		if v.names != nil {
			ev.Agent = v.names(agent)
		}
	case store.StateResolved:
		ev.Type = EventResolved
	case store.StateAI:
		if prev != store.StatePendingHuman && prev != store.StateHuman {
			return nil
		}
		ev.Type = EventReturnedToAI
	default:
		return nil // pending_human: the handoff event said it
	}
	return []Event{ev}
}
