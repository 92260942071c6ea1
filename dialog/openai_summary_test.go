package dialog_test

import (
	"context"
	"strings"
	"testing"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/dialog/openaitest"
	"switchboard/store"
)

// When a model is configured and the handoff was not its own (the
// customer asked for a person), the summary that goes with the handoff is
// the model's, asked for in a summary call with the conversation and the
// reason; when that call fails or says nothing, the extractive summary
// goes instead and the handoff is not held up.
func TestHandoffSummaryComesFromTheModel(t *testing.T) {
	const note = "Customer asks where order 1234 is (due Monday) and wants a person to chase it."
	for _, tc := range []struct {
		name    string
		answer  openaitest.ChatReply
		byModel bool
	}{
		{"model", openaitest.ChatReply{Content: []string{note}}, true},
		{"server error", openaitest.ChatReply{Status: 500}, false},
		{"empty", openaitest.ChatReply{Content: []string{"  "}}, false},
		{"stalled", openaitest.ChatReply{Stall: true}, false}, // given up after maxSummaryWait (3 s)
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := newOpenAIRig(t, nil)
			core := dialogtest.NewWith(t, "balanced", nil,
				func(*dialog.Knowledge, *config.Config, dialog.Responder) dialog.Responder { return r.ai })
			r.server.QueueChat(openaitest.ChatReply{Content: []string{"Let me check. It is on its way."}}, tc.answer)
			conv, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{"Where is my order 1234? It was due Monday.", "I want to talk to a human please"} {
				if _, err := core.Turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text}); err != nil {
					t.Fatal(err)
				}
			}
			hs, err := core.Store.Handoffs(ctx, conv.ID)
			if err != nil || len(hs) != 1 || hs[0].Reason != "customer_request" || hs[0].Status != store.HandoffPending {
				t.Fatalf("handoffs = %+v, %v", hs, err)
			}
			if got := hs[0].Summary == note; got != tc.byModel {
				t.Fatalf("summary %q; want the model's: %v", hs[0].Summary, tc.byModel)
			}
			if !tc.byModel && !strings.Contains(hs[0].Summary, "order 1234") {
				t.Fatalf("extractive summary %q lacks the customer's problem", hs[0].Summary)
			}
			reqs := r.server.ChatRequests()
			if len(reqs) != 2 {
				t.Fatalf("%d chat requests, want the reply and the summary", len(reqs))
			}
			sum := reqs[1]
			if sum.Stream || len(sum.Tools) != 0 || len(sum.Messages) != 2 ||
				!strings.Contains(sum.Messages[0].Content, "the customer asked for a person") ||
				!strings.Contains(sum.Messages[1].Content, "Customer: Where is my order 1234?") ||
				!strings.Contains(sum.Messages[1].Content, "Assistant: Let me check.") {
				t.Fatalf("summary request %+v", sum)
			}
		})
	}
}
