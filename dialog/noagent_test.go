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

// A handoff to the console while no agent is online tells the customer so:
// under wait the conversation waits in the queue, under follow_up a
// follow-up is recorded and the AI keeps the conversation. With an agent
// online, or a handoff to a phone line, nothing changes.
func TestHandoffWhenNoAgentIsOnline(t *testing.T) {
	for _, tc := range []struct {
		name, mode, channel string
		online              bool
		wantState           store.State
		wantStatus          string
		wantNoAgentNotice   bool
	}{
		{"wait, nobody online", "wait", "web", false, store.StatePendingHuman, store.HandoffPending, true},
		{"follow_up, nobody online", "follow_up", "web", false, store.StateAI, store.HandoffFollowUp, true},
		{"agent online", "follow_up", "web", true, store.StatePendingHuman, store.HandoffPending, false},
		{"a call goes to its phone line", "follow_up", "voice", false, store.StatePendingHuman, store.HandoffPending, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core := dialogtest.New(t, "balanced", nil)
			cfg := core.Config.Handoff
			cfg.WhenNoAgent = tc.mode
			policy, err := handoff.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			live := dialog.Live{Policy: policy, Responder: dialog.NewEmbedded(core.KB, dialog.EmbeddedOptions{}), Handoff: cfg,
				AgentsOnline: func() bool { return tc.online }}
			turns := dialog.NewConductor(core.Store, func() dialog.Live { return live }, dialog.NewMetrics(prometheus.NewRegistry()),
				time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
			c, err := core.Store.CreateConversation(context.Background(), store.Conversation{Channel: store.Channel(tc.channel), Customer: "x"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := turns.CustomerMessage(context.Background(), dialog.Inbound{ConversationID: c.ID, Text: "I want to talk to a human"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Handoff == nil || out.Handoff.Status != tc.wantStatus {
				t.Fatalf("handoff = %+v, want status %s", out.Handoff, tc.wantStatus)
			}
			got, _ := core.Store.Conversation(context.Background(), c.ID)
			if got.State != tc.wantState {
				t.Errorf("state = %s, want %s", got.State, tc.wantState)
			}
			last := out.Replies[len(out.Replies)-1].Text
			if said := last == cfg.Messages.NoAgent; said != tc.wantNoAgentNotice {
				t.Errorf("customer told %q; want the no-agent notice: %v", last, tc.wantNoAgentNotice)
			}
		})
	}
}
