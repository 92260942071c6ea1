package dialog

import (
	"context"
	"fmt"

	"switchboard/store"
)

// AnswerPending answers the conversation's last customer message when
// nobody has: one that arrived while an agent was handing the
// conversation back to the AI was stored under the humans, and must be
// answered by the AI that now holds the conversation. It does nothing
// unless the AI holds the conversation and its last message is the
// customer's. Like every turn it runs under the conversation's lock.
func (c *Conductor) AnswerPending(ctx context.Context, id store.ConversationID) (Outcome, error) {
	unlock, err := c.store.LockConversation(ctx, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("answer pending: %w", err)
	}
	defer unlock()
	conv, err := c.store.Conversation(ctx, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("answer pending: %w", err)
	}
	if conv.State != store.StateAI {
		return Outcome{Conversation: conv}, nil
	}
	ms, err := c.store.Messages(ctx, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("answer pending: %w", err)
	}
	// Notices (an agent handing the conversation back) may follow the
	// customer's message; any other message after it answered it.
	last := len(ms) - 1
	for last >= 0 && ms[last].Role == store.RoleSystem {
		last--
	}
	if last < 0 || ms[last].Role != store.RoleCustomer {
		return Outcome{Conversation: conv}, nil
	}
	out := Outcome{Conversation: conv, Message: ms[last]}
	t := &turn{c: c, live: c.live(), conv: conv, state: conv.State, out: &out}
	if err := t.run(ctx); err != nil {
		return out, fmt.Errorf("conversation %s: %w", conv.ID, err)
	}
	return out, nil
}
