package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"switchboard/api"
	"switchboard/events"
	"switchboard/store"
)

// claim gives the conversation to the agent. Of two agents claiming at
// once, on one instance or two, one wins; the other gets 409 naming the
// holder.
func (d *Desk) claim(w http.ResponseWriter, r *http.Request, a Agent) error {
	id := store.ConversationID(r.PathValue("id"))
	before, err := d.o.Store.Conversation(r.Context(), id)
	if err != nil {
		return err
	}
	if err := d.o.Store.Claim(r.Context(), id, a.ID); err != nil {
		if errors.Is(err, store.ErrAlreadyClaimed) {
			return d.heldBy(r.Context(), id, err)
		}
		return err
	}
	if before.Agent != a.ID { // not a repeated claim
		d.publish(r.Context(), events.Event{Kind: events.Claimed, ConversationID: id, State: store.StateHuman, Agent: a.ID})
		d.announce(r.Context(), id, store.StateHuman, "claimed", a.Name+" joined the conversation.")
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"state": string(store.StateHuman), "agent": a.ID, "agent_name": a.Name})
	return nil
}

// heldBy is the 409 for a conversation another agent holds.
func (d *Desk) heldBy(ctx context.Context, id store.ConversationID, cause error) error {
	c, err := d.o.Store.Conversation(ctx, id)
	if err != nil {
		return errors.Join(cause, err)
	}
	name := d.o.Agents.Name(c.Agent)
	return &api.Error{Status: http.StatusConflict, Msg: "taken by " + name,
		Extra: map[string]string{"holder": c.Agent, "holder_name": name}}
}

// reply stores the agent's message, tells every stream, and hands it to
// the conversation's channel to deliver.
func (d *Desk) reply(w http.ResponseWriter, r *http.Request, a Agent) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := api.Decode(w, r, &in); err != nil {
		return err
	}
	text := strings.TrimSpace(in.Text)
	limit := d.o.Live().MaxMessageChars
	switch {
	case text == "":
		return api.Errorf(http.StatusBadRequest, "text is empty")
	case limit > 0 && utf8.RuneCountInString(text) > limit:
		return api.Errorf(http.StatusRequestEntityTooLarge, "a message holds at most %d characters", limit)
	case strings.ContainsRune(text, 0):
		return api.Errorf(http.StatusBadRequest, "text holds a NUL character")
	}
	id := store.ConversationID(r.PathValue("id"))
	c, err := d.o.Store.Conversation(r.Context(), id)
	if err != nil {
		return err
	}
	if c.State != store.StateHuman || c.Agent != a.ID {
		if c.State == store.StateHuman {
			return d.heldBy(r.Context(), id, store.ErrNotHolder)
		}
		return api.Errorf(http.StatusConflict, "claim the conversation before replying")
	}
	route, ok := d.o.Routes[string(c.Channel)]
	if !ok {
		hs, err := d.o.Store.Handoffs(r.Context(), id)
		if err != nil {
			return err
		}
		_, note := d.canReply(c, hs)
		return api.Errorf(http.StatusConflict, "no reply can reach this customer: %s", note)
	}
	m, _, err := d.o.Store.AppendMessage(r.Context(), store.Message{ConversationID: id, Role: store.RoleAgent, Text: text, Agent: a.ID})
	if err != nil {
		return err
	}
	d.publish(r.Context(), events.Event{Kind: events.Message, ConversationID: id, State: c.State, MessageID: m.ID, Agent: a.ID})
	if err := route.Deliver(r.Context(), c, m); err != nil {
		return fmt.Errorf("deliver reply %d: %w", m.ID, err)
	}
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"message": api.ToMessage(m, d.Names())})
	return nil
}

func (d *Desk) resolve(w http.ResponseWriter, r *http.Request, a Agent) error {
	return d.close(w, r, a, d.o.Store.Resolve, store.StateResolved, a.Name+" marked the conversation as resolved.")
}

// returnToAI gives the conversation back to the AI, which then answers a
// customer message that arrived while the agent was handing it back.
func (d *Desk) returnToAI(w http.ResponseWriter, r *http.Request, a Agent) error {
	err := d.close(w, r, a, d.o.Store.ReturnToAI, store.StateAI, a.Name+" handed the conversation back to the assistant.")
	if err != nil {
		return err
	}
	if d.o.AnswerPending != nil {
		id := store.ConversationID(r.PathValue("id"))
		if err := d.o.AnswerPending(context.WithoutCancel(r.Context()), id); err != nil {
			d.o.Log.Error("the AI did not answer the message left pending", "conversation_id", id, "error", err)
		}
	}
	return nil
}

// close ends the humans' part of a conversation, one way or the other.
func (d *Desk) close(w http.ResponseWriter, r *http.Request, a Agent,
	change func(context.Context, store.ConversationID, string) error, state store.State, notice string) error {
	id := store.ConversationID(r.PathValue("id"))
	if err := change(r.Context(), id, a.ID); err != nil {
		if errors.Is(err, store.ErrNotHolder) {
			return d.heldBy(r.Context(), id, err)
		}
		return err
	}
	d.publish(r.Context(), events.Event{Kind: events.State, ConversationID: id, State: state, Agent: a.ID})
	d.announce(r.Context(), id, state, string(state), notice)
	api.WriteJSON(w, http.StatusOK, map[string]string{"state": string(state)})
	return nil
}

// announce stores what an agent did as a system message of the
// conversation and publishes it, so that every surface (the visitor's
// thread, the console, the history a reload fetches, other channels) shows
// the same line. Its idempotency key names the handoff, so an action
// repeated on another instance announces once. The action has happened
// whatever becomes of its notice: a failure is logged, not returned.
func (d *Desk) announce(ctx context.Context, id store.ConversationID, state store.State, what, text string) {
	m := store.Message{ConversationID: id, Role: store.RoleSystem, Text: text}
	created := false
	hs, err := d.o.Store.Handoffs(ctx, id)
	if err == nil {
		for i := len(hs) - 1; i >= 0; i-- {
			if hs[i].Status != store.HandoffFollowUp {
				m.IdempotencyKey = fmt.Sprintf("desk:%s:%d", what, hs[i].ID)
				break
			}
		}
		m, created, err = d.o.Store.AppendMessage(ctx, m)
	}
	if err != nil {
		d.o.Log.Warn("desk: the action's notice was not stored", "conversation_id", id, "action", what, "error", err)
		return
	}
	if created {
		d.publish(ctx, events.Event{Kind: events.Message, ConversationID: id, State: state, MessageID: m.ID})
	}
}
