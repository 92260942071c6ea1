package dialog_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/handoff"
	"switchboard/store"
)

// scripted answers from a list; a reply with Transfer is the model calling
// its transfer_to_human tool.
type scripted struct{ replies []dialog.Reply }

func (s *scripted) Respond(context.Context, dialog.Request) (dialog.Reply, error) {
	r := s.replies[0]
	s.replies = s.replies[1:]
	return r, nil
}

func toolConductor(t *testing.T, level string, replies ...dialog.Reply) (*dialog.Conductor, store.Store, *dialogtest.Core) {
	t.Helper()
	core := dialogtest.New(t, level, nil)
	cfg := *core.Config
	cfg.Handoff.Level = level
	policy, err := handoff.New(cfg.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	live := dialog.Live{Policy: policy, Responder: &scripted{replies: replies}, Handoff: cfg.Handoff}
	turns := dialog.NewConductor(core.Store, func() dialog.Live { return live }, dialog.NewMetrics(prometheus.NewRegistry()),
		func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return turns, core.Store, core
}

// The model's transfer tool is a wish the policy grants or refuses by the
// level: quick at once; balanced only after a real attempt; ai_only never.
// A granted transfer carries the model's summary; a refused one with no
// words still answers the customer.
func TestModelTransferFollowsTheLevel(t *testing.T) {
	answer := dialog.Reply{Text: "Orders ship within two days."}
	transfer := dialog.Reply{Transfer: true, TransferReason: "missing_tool", Summary: "Wants the delivery address changed on order 1234."}
	for _, tc := range []struct {
		name    string
		level   string
		replies []dialog.Reply
		turns   []string
		handoff bool
		reason  string // the handoff's reason when not the default missing_tool
	}{
		{"quick, first turn", "quick", []dialog.Reply{transfer}, []string{"change the address on order 1234"}, true, ""},
		{"balanced, first turn", "balanced", []dialog.Reply{transfer}, []string{"change the address on order 1234"}, false, ""},
		{"balanced, after an attempt", "balanced", []dialog.Reply{answer, transfer},
			[]string{"when does my order ship", "change the address on order 1234"}, true, ""},
		{"ai_only", "ai_only", []dialog.Reply{answer, transfer},
			[]string{"when does my order ship", "change the address on order 1234"}, false, ""},
		// ai_first: the model cannot skip the problem statement; the
		// customer is asked for it instead (checked below).
		{"ai_first, no problem statement", "ai_first", []dialog.Reply{transfer}, []string{"help me please"}, false, ""},
		{"ai_first, with a problem statement", "ai_first", []dialog.Reply{transfer},
			[]string{"my oak dining table from order 1234 arrived last week with a cracked leg and the replacement never came"}, true, ""},
		// The model read a request for a person that the policy's own
		// detector missed: the handoff records the model's reason.
		{"model's reason", "quick", []dialog.Reply{{Transfer: true, TransferReason: "customer_request", Summary: "Wants Dana."}},
			[]string{"is Dana from your returns team around today"}, true, "customer_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			turns, st, core := toolConductor(t, tc.level, tc.replies...)
			conv, err := st.CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			var out dialog.Outcome
			for _, text := range tc.turns {
				if out, err = turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text}); err != nil {
					t.Fatal(err)
				}
			}
			if got := out.Handoff != nil && out.Decision.Handoff; got != tc.handoff {
				t.Fatalf("handoff = %v, want %v (decision %+v)", got, tc.handoff, out.Decision)
			}
			if len(out.Replies) == 0 {
				t.Fatal("the customer got no answer")
			}
			for _, r := range out.Replies {
				if r.Text == "" {
					t.Fatalf("an empty reply went to the customer: %+v", out.Replies)
				}
			}
			if !tc.handoff {
				last := out.Replies[len(out.Replies)-1].Text
				if ask := core.Config.Handoff.Messages.AskProblemStatement; tc.level == "ai_first" && last != ask {
					t.Fatalf("ai_first told the customer %q, want the request for a problem statement", last)
				}
				return
			}
			if tc.reason != "" {
				if out.Handoff.Reason != tc.reason {
					t.Fatalf("reason = %q, want the model's %q", out.Handoff.Reason, tc.reason)
				}
				return
			}
			if out.Decision.Trigger != handoff.TriggerAIDecision || out.Handoff.Reason != "missing_tool" ||
				out.Handoff.Summary != transfer.Summary {
				t.Fatalf("handoff = %+v, decision %+v", out.Handoff, out.Decision)
			}
			if last := out.Replies[len(out.Replies)-1]; last.Text != core.Config.Handoff.Messages.Handoff {
				t.Fatalf("customer told %q", last.Text)
			}
		})
	}
}

// A restricted topic that only the model recognised is still a restricted
// topic: humans get it at once at any level that hands off, and under
// ai_only the AI declines it and the conversation is flagged for a person
// to follow up, with the model's summary.
func TestModelRecognisedRestrictedTopic(t *testing.T) {
	restricted := dialog.Reply{Text: "I'm not able to discuss that here.", Transfer: true,
		TransferReason: "restricted_topic", Summary: "Asks about a pending legal claim."}
	for _, tc := range []struct {
		level  string
		status string
	}{
		{"ai_only", store.HandoffFollowUp},
		{"balanced", store.HandoffPending}, // first turn: no attempt needed
		{"ai_first", store.HandoffPending}, // no problem statement needed
	} {
		t.Run(tc.level, func(t *testing.T) {
			ctx := context.Background()
			turns, st, core := toolConductor(t, tc.level, restricted)
			conv, err := st.CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "what about the thing with my lawyer"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Handoff == nil || out.Handoff.Status != tc.status || out.Handoff.Reason != "restricted_topic" ||
				out.Handoff.Summary != restricted.Summary {
				t.Fatalf("handoff = %+v, want %s for restricted_topic (decision %+v)", out.Handoff, tc.status, out.Decision)
			}
			want := core.Config.Handoff.Messages.Handoff
			if tc.status == store.HandoffFollowUp {
				want = core.Config.Handoff.Messages.TopicDeclined
			}
			if last := out.Replies[len(out.Replies)-1]; last.Text != want {
				t.Fatalf("customer told %q, want %q", last.Text, want)
			}
		})
	}
}
