package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/handoff"
)

// TestQuestionsStayWithTheAI proves the load generator measures the AI's
// round trip: with the shipped config and knowledge, every question gets a
// real answer, and whole conversations of them (in several orders) never go
// to a human, so no message waits for a reply that will not come.
func TestQuestionsStayWithTheAI(t *testing.T) {
	cfg, err := config.Load("../../configs/switchboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
	if err != nil {
		t.Fatal(err)
	}
	ai := dialog.NewEmbedded(kb, dialog.EmbeddedOptions{})
	policy, err := handoff.New(cfg.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	replies := map[string]dialog.Reply{}
	for _, q := range questions {
		r, err := ai.Respond(context.Background(), dialog.Request{Channel: "web", Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if r.Unresolved {
			t.Errorf("%q: the embedded responder has no answer (gap %s)", q, r.Gap)
		}
		replies[q] = r
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		var msgs []handoff.Message
		for _, q := range askOrder(rng) {
			r := replies[q]
			msgs = append(msgs,
				handoff.Message{Role: handoff.RoleCustomer, Text: q},
				handoff.Message{Role: handoff.RoleAI, Text: r.Text, Unresolved: r.Unresolved, Gap: r.Gap})
		}
		if d := policy.Replay("web", msgs, time.Time{}); d.Handoff || d.FollowUp {
			t.Errorf("a conversation of the questions went to humans: %s (%s)", d.Trigger, d.Detail)
		}
	}
}
