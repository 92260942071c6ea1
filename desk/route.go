package desk

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/delivery"
	"switchboard/events"
	"switchboard/store"
)

// Reply is the outbox payload of an agent's reply: what a channel's
// sender needs to send it in the customer's own thread.
type Reply struct {
	ConversationID store.ConversationID `json:"conversation_id"`
	MessageID      int64                `json:"message_id"`
	Customer       string               `json:"customer"`
	ThreadKey      string               `json:"thread_key,omitempty"`
	Text           string               `json:"text"`
	Agent          string               `json:"agent"`      // the agent's id
	AgentName      string               `json:"agent_name"` // as the customer sees it
}

// OutboxRoute is the route of an asynchronous channel (SMS, email,
// Slack): the reply is enqueued for destination "<channel>:<customer>",
// once per message, and the sender the channel registered with the
// delivery worker sends it, with retries.
func OutboxRoute(st store.Store, bus events.Bus, names func(string) string) Route {
	return RouteFunc(func(ctx context.Context, c store.Conversation, m store.Message) error {
		payload, err := json.Marshal(Reply{ConversationID: c.ID, MessageID: m.ID, Customer: c.Customer, ThreadKey: c.ThreadKey,
			Text: m.Text, Agent: m.Agent, AgentName: names(m.Agent)})
		if err != nil {
			return fmt.Errorf("reply %d: %w", m.ID, err)
		}
		_, err = delivery.Enqueue(ctx, st, bus, store.OutboxItem{ConversationID: c.ID,
			Destination: string(c.Channel) + ":" + c.Customer, Payload: payload, IdempotencyKey: fmt.Sprintf("reply-%d", m.ID)})
		if err != nil {
			return fmt.Errorf("reply %d: %w", m.ID, err)
		}
		return nil
	})
}
