package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"switchboard/channels/webhook"
	"switchboard/config"
	"switchboard/delivery"
	"switchboard/handoff"
	"switchboard/store"
)

// handoffPost is what the webhook posts for a handoff: the context packet,
// masked, saying which handoff it is about and what became of it.
type handoffPost struct {
	Event     string `json:"event"`  // "handoff"
	Status    string `json:"status"` // the handoff's: pending, follow_up
	HandoffID int64  `json:"handoff_id"`
	handoff.Packet
}

// webhookKey is the outbox item's idempotency key for handoff id: one post
// per handoff, whatever retries or instances do.
func webhookKey(id int64) string { return fmt.Sprintf("handoff-%d", id) }

// webhookSecret reads the signing secret the config names; a variable
// named but unset is an error, so that posts never go out unsigned by
// mistake.
func webhookSecret(w config.Webhook) ([]byte, error) {
	if w.SecretEnv == "" {
		return nil, nil
	}
	v := os.Getenv(w.SecretEnv)
	if v == "" {
		return nil, fmt.Errorf("handoff.webhook.secret_env: the environment variable %s is not set", w.SecretEnv)
	}
	return []byte(v), nil
}

// webhookTarget is where the webhook posts go under the config in force.
func (g *Gateway) webhookTarget() webhook.Target {
	rt := g.live.Load()
	return webhook.Target{URL: rt.cfg.Handoff.Webhook.URL, Secret: rt.webhookSecret}
}

// enqueueHandoff is the conductor's handoff hook: with the webhook on, it
// puts h's post in the outbox, inside the turn that recorded h. A failure
// is logged; the handoff itself stands.
//
// The item belongs to no conversation: if the contact center's service
// refuses it for good, that is for the admin's logs and metrics, not a
// "Not delivered" note in the customer's chat.
func (g *Gateway) enqueueHandoff(ctx context.Context, c store.Conversation, h store.Handoff) {
	if g.Config().Handoff.Webhook.URL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	log := g.log.With("conversation_id", c.ID, "handoff_id", h.ID, "channel", webhook.Kind)
	body, err := g.handoffPost(ctx, c.ID, h)
	if err == nil {
		_, err = delivery.Enqueue(ctx, g.store, g.bus, store.OutboxItem{Destination: webhook.Kind,
			Payload: body, IdempotencyKey: webhookKey(h.ID)})
	}
	if err != nil {
		log.Error("handoff not queued for the webhook", "error", err)
		return
	}
	log.Debug("handoff queued for the webhook")
}

// handoffPost builds the post for handoff h of conversation id from the
// store, masked with the masker in force.
func (g *Gateway) handoffPost(ctx context.Context, id store.ConversationID, h store.Handoff) ([]byte, error) {
	c, err := g.store.Conversation(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("webhook post: %w", err)
	}
	ms, err := g.store.Messages(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("webhook post: %w", err)
	}
	hs, err := g.store.Handoffs(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("webhook post: %w", err)
	}
	p := handoff.BuildPacket(c, ms, hs, "/agent?conversation="+string(c.ID))
	// The post is about h, a follow-up too, which the packet's own
	// handoff (the latest one to a person) leaves out.
	p.Handoff = &handoff.PacketHandoff{Trigger: h.Trigger, Reason: h.Reason, Topic: h.Topic, Summary: h.Summary,
		Sentiment: h.Sentiment, Status: h.Status, Target: h.Target, Agent: h.Agent, CreatedAt: h.CreatedAt}
	body, err := json.Marshal(handoffPost{Event: "handoff", Status: h.Status, HandoffID: h.ID,
		Packet: p.Masked(g.dialogLive().Masker)})
	if err != nil {
		return nil, fmt.Errorf("webhook post: %w", err)
	}
	return body, nil
}
