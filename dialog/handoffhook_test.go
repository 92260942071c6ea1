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

// The handoff hook hears of every handoff and follow-up a turn records,
// once each, with the handoff as stored; turns that record none, and a
// redelivered message, call it not at all.
func TestHandoffHookHearsEveryHandoffOnce(t *testing.T) {
	for _, tc := range []struct{ level, wantStatus string }{
		{"balanced", store.HandoffPending},
		{"ai_only", store.HandoffFollowUp},
	} {
		t.Run(tc.level, func(t *testing.T) {
			core := dialogtest.New(t, tc.level, nil)
			type call struct {
				c store.Conversation
				h store.Handoff
			}
			var calls []call
			policy, err := handoff.New(core.Config.Handoff)
			if err != nil {
				t.Fatal(err)
			}
			l := dialog.Live{Policy: policy, Responder: dialog.NewEmbedded(core.KB, dialog.EmbeddedOptions{}), Handoff: core.Config.Handoff}
			turns := dialog.NewConductor(core.Store, func() dialog.Live { return l }, dialog.NewMetrics(prometheus.NewRegistry()),
				time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)),
				dialog.WithHandoffHook(func(ctx context.Context, c store.Conversation, h store.Handoff) {
					if ctx.Err() != nil {
						t.Errorf("hook's context already ended: %v", ctx.Err())
					}
					calls = append(calls, call{c, h})
				}))
			ctx := context.Background()
			c, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: store.ChannelWeb, Customer: "x"})
			if err != nil {
				t.Fatal(err)
			}
			say := func(text, key string) dialog.Outcome {
				t.Helper()
				out, err := turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: c.ID, Text: text, IdempotencyKey: key})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			say("What are your opening hours?", "m1")
			if len(calls) != 0 {
				t.Fatalf("hook called on a turn without a handoff: %+v", calls)
			}
			out := say("I want to talk to a human", "m2")
			say("I want to talk to a human", "m2") // redelivered
			if len(calls) != 1 {
				t.Fatalf("hook called %d times, want once", len(calls))
			}
			if got := calls[0]; got.c.ID != c.ID || out.Handoff == nil || got.h.ID != out.Handoff.ID || got.h.Status != tc.wantStatus {
				t.Errorf("hook got conversation %s handoff %+v; want %s, handoff %+v with status %s", got.c.ID, got.h, c.ID, out.Handoff, tc.wantStatus)
			}
		})
	}
}
