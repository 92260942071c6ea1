package dialog

import (
	"context"
	"errors"
	"fmt"

	"switchboard/store"
)

// Note stores a system message in the conversation's transcript: what a
// channel did about a handoff (transferred by REFER, bridged, nobody
// answered), so the agent who picks the conversation up sees it.
func (c *Conductor) Note(ctx context.Context, id store.ConversationID, text string) error {
	_, _, err := c.store.AppendMessage(ctx, store.Message{ConversationID: id, Role: store.RoleSystem, Text: text})
	if err != nil {
		return fmt.Errorf("note: %w", err)
	}
	return nil
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
	err = c.store.ReturnToAI(ctx, h.ConversationID, "")
	if err != nil && !errors.Is(err, store.ErrWrongState) {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	followUp := h
	followUp.ID, followUp.Status, followUp.Target = 0, store.HandoffFollowUp, "callback"
	followUp.Summary = h.Summary + " (live transfer failed: " + why + "; call the customer back)"
	if _, err := c.store.RequestHandoff(ctx, followUp); err != nil {
		return store.Message{}, fmt.Errorf("record callback: %w", err)
	}
	if _, _, err := c.store.AppendMessage(ctx, store.Message{
		ConversationID: h.ConversationID, Role: store.RoleSystem, Text: "Transfer failed: " + why + ". Callback recorded.",
	}); err != nil {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	text := c.live().Handoff.Messages.TransferFailed
	msg, _, err := c.store.AppendMessage(ctx, store.Message{ConversationID: h.ConversationID, Role: store.RoleAI, Text: text})
	if err != nil {
		return store.Message{}, fmt.Errorf("transfer failed: %w", err)
	}
	c.log.Info("transfer failed, callback recorded", "conversation_id", h.ConversationID, "why", why)
	return msg, nil
}

// GapMissingTool means the AI understood the request but has no tool to
// act on it (change an address, issue a refund): the reason an LLM gives
// when it calls its transfer tool for that.
const GapMissingTool = store.GapMissingTool
