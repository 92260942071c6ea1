package dialog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/events"
	"switchboard/store"
)

// Note stores a system message in the conversation's transcript: what a
// channel did about a handoff (transferred by REFER, bridged, nobody
// answered), so the agent who picks the conversation up sees it.
func (c *Conductor) Note(ctx context.Context, id store.ConversationID, text string) error {
	if _, err := c.appendAndAnnounce(ctx, store.Message{ConversationID: id, Role: store.RoleSystem, Text: text}); err != nil {
		return fmt.Errorf("note: %w", err)
	}
	return nil
}

// appendAndAnnounce stores m and publishes it, with the conversation's
// state now, so open streams show it at once.
func (c *Conductor) appendAndAnnounce(ctx context.Context, m store.Message) (store.Message, error) {
	stored, created, err := c.store.AppendMessage(ctx, m)
	if err != nil || !created || c.bus == nil {
		return stored, err
	}
	conv, err := c.store.Conversation(ctx, m.ConversationID)
	if err != nil {
		c.log.Warn("event not published", "kind", events.Message, "conversation_id", m.ConversationID, "error", err)
		return stored, nil
	}
	c.publish(ctx, events.Event{Kind: events.Message, ConversationID: m.ConversationID, State: conv.State, MessageID: stored.ID})
	return stored, nil
}

// TransferFailed is called by a channel whose live transfer of handoff h
// reached nobody: no answer, busy, rejected. The AI takes the conversation
// back (the customer is still there and must not be left in silence), a
// callback follow-up is recorded with the same context so a human still
// calls back, and the message that tells the customer is stored and
// returned for the channel to say.
func (c *Conductor) TransferFailed(ctx context.Context, h store.Handoff, why string) (store.Message, error) {
	unlock, err := c.store.LockConversation(ctx, h.ConversationID)
	if err != nil {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	defer unlock()
	if err := c.recordCallback(ctx, h, "live transfer failed: "+why, "Transfer failed: "+why+". Callback recorded."); err != nil {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	text := c.live().Handoff.Messages.TransferFailed
	msg, err := c.appendAndAnnounce(ctx, store.Message{ConversationID: h.ConversationID, Role: store.RoleAI, Text: text})
	if err != nil {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	c.log.Info("transfer failed, callback recorded", "conversation_id", h.ConversationID, "why", why)
	return msg, nil
}

// recordCallback gives the conversation back to the AI (its handoff can no
// longer be met live), records a callback follow-up with h's context, and
// notes it in the transcript. The caller holds the conversation's lock.
func (c *Conductor) recordCallback(ctx context.Context, h store.Handoff, why, note string) error {
	err := c.store.ReturnToAI(ctx, h.ConversationID, "")
	switch {
	case err == nil:
		c.publish(ctx, events.Event{Kind: events.State, ConversationID: h.ConversationID, State: store.StateAI})
	case !errors.Is(err, store.ErrWrongState):
		return err
	}
	followUp := h
	followUp.ID, followUp.Status, followUp.Target = 0, store.HandoffFollowUp, "callback"
	followUp.Summary = h.Summary + " (" + why + "; call the customer back)"
	stored, err := c.store.RequestHandoff(ctx, followUp)
	if err != nil {
		return fmt.Errorf("record callback: %w", err)
	}
	if conv, err := c.store.Conversation(ctx, h.ConversationID); err == nil {
		c.publish(ctx, events.Event{Kind: events.Handoff, ConversationID: h.ConversationID, State: conv.State, HandoffID: stored.ID})
	}
	_, err = c.appendAndAnnounce(ctx, store.Message{ConversationID: h.ConversationID, Role: store.RoleSystem, Text: note})
	return err
}

// CallAbandoned closes the conversation of a call whose instance died
// (killed, its machine lost) and that another instance, or the same one
// restarted, found: the transcript says the caller was cut off and when it
// was noticed, and a handoff still waiting for its live transfer becomes a
// callback follow-up, so nothing stays pending for ever.
func (c *Conductor) CallAbandoned(ctx context.Context, id store.ConversationID, noticed time.Time) error {
	unlock, err := c.store.LockConversation(ctx, id)
	if err != nil {
		return fmt.Errorf("call abandoned: %w", err)
	}
	defer unlock()
	note := "Call ended: abandoned. The gateway instance handling it stopped unexpectedly; noticed " +
		noticed.UTC().Format(time.RFC3339) + "."
	if err := c.Note(ctx, id, note); err != nil {
		return fmt.Errorf("call abandoned: %w", err)
	}
	conv, err := c.store.Conversation(ctx, id)
	if err != nil {
		return fmt.Errorf("call abandoned: %w", err)
	}
	if conv.State != store.StatePendingHuman {
		return nil
	}
	hs, err := c.store.Handoffs(ctx, id)
	if err != nil {
		return fmt.Errorf("call abandoned: %w", err)
	}
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Status == store.HandoffPending {
			err := c.recordCallback(ctx, hs[i], "the call was cut off before the transfer",
				"The transfer never went out: callback recorded.")
			if err != nil {
				return fmt.Errorf("call abandoned: %w", err)
			}
			c.log.Info("abandoned call's handoff became a callback", "conversation_id", id)
			break
		}
	}
	return nil
}

// GapMissingTool means the AI understood the request but has no tool to
// act on it (change an address, issue a refund): the reason an LLM gives
// when it calls its transfer tool for that.
const GapMissingTool = store.GapMissingTool
