package dialog_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/dialog/openaitest"
	"switchboard/handoff"
	"switchboard/store"
)

// A card number the customer gave is masked in the summary stored with the
// handoff, whoever wrote it: the extractive summary quoting the customer,
// the model's transfer tool, or the summary call to the model. The
// customer's message in the transcript keeps it.
func TestHandoffSummaryMasksCardNumbers(t *testing.T) {
	const (
		card    = "4242 4242 4242 4242"
		masked  = "[card ending 4242]"
		update  = "Please put my new card " + card + " on my account for the next order"
		request = update + ", I want to talk to a human"
	)
	for _, tc := range []struct {
		name  string
		level string
		said  string
		from  string // in the summary: who wrote it
		turns func(t *testing.T, core *dialogtest.Core) *dialog.Conductor
	}{
		{"extractive", "balanced", request, "Handed off on explicit request",
			func(t *testing.T, core *dialogtest.Core) *dialog.Conductor { return core.Turns }},
		{"model's transfer tool", "quick", update, "Wants card " + masked,
			func(t *testing.T, core *dialogtest.Core) *dialog.Conductor {
				return conductorWith(t, core, &scripted{replies: []dialog.Reply{{Transfer: true, TransferReason: "missing_tool",
					Summary: "Wants card " + card + " stored on the account."}}})
			}},
		{"summary call", "balanced", request, "Customer wants " + masked,
			func(t *testing.T, core *dialogtest.Core) *dialog.Conductor {
				r := newOpenAIRig(t, nil)
				r.server.QueueChat(openaitest.ChatReply{Content: []string{"Customer wants " + card + " on the account; asks for a person."}})
				return conductorWith(t, core, r.ai)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			core := dialogtest.New(t, tc.level, nil)
			turns := tc.turns(t, core)
			conv, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: tc.said}); err != nil {
				t.Fatal(err)
			}
			hs, err := core.Store.Handoffs(ctx, conv.ID)
			if err != nil || len(hs) != 1 {
				t.Fatalf("handoffs = %+v, %v", hs, err)
			}
			if s := hs[0].Summary; strings.Contains(s, card) || !strings.Contains(s, masked) || !strings.Contains(s, tc.from) {
				t.Errorf("stored summary %q: want %q, the card masked", s, tc.from)
			}
			msgs, err := core.Store.Messages(ctx, conv.ID)
			if err != nil || len(msgs) == 0 || msgs[0].Text != tc.said {
				t.Fatalf("the transcript lost what the customer said: %+v, %v", msgs, err)
			}
		})
	}
}

// The extractive summary quotes the customer cut to length; a card the cut
// runs through is masked before, so not even its first digits remain.
func TestExtractiveSummaryMasksBeforeCutting(t *testing.T) {
	ctx := context.Background()
	core := dialogtest.New(t, "balanced", nil)
	conv, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	said := "I want a human about my account " + strings.Repeat("and the order ", 10) + "and the card 4111 1111 1111 1111 I gave."
	if _, err := core.Turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: said}); err != nil {
		t.Fatal(err)
	}
	hs, err := core.Store.Handoffs(ctx, conv.ID)
	if err != nil || len(hs) != 1 {
		t.Fatalf("handoffs = %+v, %v", hs, err)
	}
	if s := hs[0].Summary; strings.Contains(s, "4111") || !strings.Contains(s, "and the card [") {
		t.Errorf("summary %q: the card's digits remain", s)
	}
}

// conductorWith is core's conductor with another responder, masking as the
// shipped config says.
func conductorWith(t *testing.T, core *dialogtest.Core, r dialog.Responder) *dialog.Conductor {
	t.Helper()
	policy, err := handoff.New(core.Config.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	masker, err := handoff.NewMasker(core.Config.Handoff.PII)
	if err != nil {
		t.Fatal(err)
	}
	live := dialog.Live{Policy: policy, Responder: r, Handoff: core.Config.Handoff, Masker: masker}
	return dialog.NewConductor(core.Store, func() dialog.Live { return live }, dialog.NewMetrics(prometheus.NewRegistry()),
		func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
