package dialog_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/handoff"
	"switchboard/store"
)

type rig struct {
	store   store.Store
	turns   *dialog.Conductor
	cfg     *config.Config
	metrics *dialog.Metrics
}

// newRig builds the core a channel plugs into (dialogtest) at level, with a
// fixed clock inside business hours.
func newRig(t *testing.T, level string) *rig {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	c := dialogtest.New(t, level, now)
	return &rig{store: c.Store, turns: c.Turns, cfg: c.Config, metrics: c.Metrics}
}

func (r *rig) conversation(t *testing.T, channel store.Channel) store.ConversationID {
	t.Helper()
	c, err := r.store.CreateConversation(context.Background(), store.Conversation{Channel: channel, Customer: "visitor-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (r *rig) say(t *testing.T, id store.ConversationID, text, key string) dialog.Outcome {
	t.Helper()
	out, err := r.turns.CustomerMessage(context.Background(), dialog.Inbound{ConversationID: id, Text: text, IdempotencyKey: key})
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return out
}

func (r *rig) state(t *testing.T, id store.ConversationID) store.State {
	t.Helper()
	c, err := r.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.State
}

func TestAIAnswersFromKnowledge(t *testing.T) {
	r := newRig(t, "balanced")
	id := r.conversation(t, "web")
	out := r.say(t, id, "How long do I have to return an item?", "m1")
	if len(out.Replies) != 1 || out.Replies[0].Unresolved || out.Handoff != nil {
		t.Fatalf("want one resolved answer and no handoff, got %+v", out)
	}
	if r.state(t, id) != store.StateAI {
		t.Errorf("state %s, want ai", r.state(t, id))
	}
}

func TestRequestForHumanHandsOffAndAIStops(t *testing.T) {
	r := newRig(t, "balanced")
	id := r.conversation(t, "web")
	r.say(t, id, "Where is my order?", "m1")
	out := r.say(t, id, "I'd like to talk to a real person", "m2")
	if out.Handoff == nil || out.Handoff.Trigger != "explicit_request" || out.Handoff.Reason != "customer_request" {
		t.Fatalf("want an explicit-request handoff, got %+v", out.Handoff)
	}
	if out.Handoff.Status != store.HandoffPending || out.Handoff.Summary == "" || out.Handoff.Target != "agent_console" {
		t.Errorf("handoff record incomplete: %+v", out.Handoff)
	}
	if len(out.Replies) != 1 || out.Replies[0].Text != r.cfg.Handoff.Messages.Handoff {
		t.Errorf("customer should be told the configured handoff text, got %+v", out.Replies)
	}
	if r.state(t, id) != store.StatePendingHuman {
		t.Fatalf("state %s, want pending_human", r.state(t, id))
	}
	after := r.say(t, id, "hello? what is the return policy?", "m3")
	if len(after.Replies) != 0 {
		t.Errorf("the AI answered after the handoff: %+v", after.Replies)
	}
	msgs, err := r.store.Messages(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Role != store.RoleCustomer || last.Text != "hello? what is the return policy?" {
		t.Errorf("the customer's message after handoff was not kept: %+v", last)
	}
	sentiment := handoff.SentimentLabel(out.Handoff.Sentiment)
	got := testutil.ToFloat64(dialog.HandoffCounter(r.metrics, "web", "explicit_request", "customer_request", "", sentiment, "handoff"))
	if got != 1 {
		t.Errorf("switchboard_handoffs_total = %v, want 1", got)
	}
}

func TestRedeliveredMessageIsHandledOnce(t *testing.T) {
	r := newRig(t, "balanced")
	id := r.conversation(t, "sms")
	first := r.say(t, id, "Do you ship internationally?", "SM123")
	again := r.say(t, id, "Do you ship internationally?", "SM123")
	if !again.Duplicate || len(again.Replies) != 0 || again.Message.ID != first.Message.ID {
		t.Fatalf("redelivery should be stored once and not answered again: %+v", again)
	}
	msgs, _ := r.store.Messages(context.Background(), id)
	if len(msgs) != 2 {
		t.Errorf("want the message and one reply, got %d messages", len(msgs))
	}
}

func TestRestrictedTopicHandsOffAtOnce(t *testing.T) {
	r := newRig(t, "ai_first")
	id := r.conversation(t, "web")
	out := r.say(t, id, "I was charged twice and want it reversed", "m1")
	if out.Handoff == nil || out.Handoff.Trigger != "restricted_topic" || out.Handoff.Topic != "billing_disputes" {
		t.Fatalf("want a billing_disputes handoff, got %+v", out.Handoff)
	}
}

func TestAIOnlyRecordsFollowUpInsteadOfTransfer(t *testing.T) {
	r := newRig(t, "ai_only")
	id := r.conversation(t, "web")
	out := r.say(t, id, "get me a human", "m1")
	if out.Handoff == nil || out.Handoff.Status != store.HandoffFollowUp {
		t.Fatalf("want a follow-up record, got %+v", out.Handoff)
	}
	if r.state(t, id) != store.StateAI {
		t.Errorf("ai_only must not transfer; state %s", r.state(t, id))
	}
	if len(out.Replies) != 1 || out.Replies[0].Text != r.cfg.Handoff.Messages.NoTransfer {
		t.Errorf("the AI should say it cannot transfer, got %+v", out.Replies)
	}
}

func TestAIFailingAfterAnAttemptHandsOff(t *testing.T) {
	r := newRig(t, "balanced")
	id := r.conversation(t, "web")
	first := r.say(t, id, "what will the weather be in Paris tomorrow?", "m1")
	if len(first.Replies) != 1 || !first.Replies[0].Unresolved || first.Handoff != nil {
		t.Fatalf("first failure should be admitted, not handed off: %+v", first)
	}
	second := r.say(t, id, "ok then, can you recommend a good dentist near me", "m2")
	if second.Handoff == nil || second.Handoff.Trigger != "ai_decision" || second.Handoff.Reason != "missing_knowledge" {
		t.Fatalf("want an AI-decision handoff for missing knowledge, got %+v (decision %+v)", second.Handoff, second.Decision)
	}
}
