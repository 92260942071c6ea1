package dialog_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/handoff"
	"switchboard/store"
)

// talker streams its sentences one by one and then, like a model still
// writing, waits for more until its context ends.
type talker struct {
	sentences []string
	cancelled chan struct{}
}

func (r *talker) Respond(ctx context.Context, req dialog.Request) (dialog.Reply, error) {
	return r.RespondStream(ctx, req, func(string) {})
}

func (r *talker) RespondStream(ctx context.Context, _ dialog.Request, onSentence func(string)) (dialog.Reply, error) {
	for _, s := range r.sentences {
		onSentence(s)
	}
	<-ctx.Done()
	close(r.cancelled)
	return dialog.Reply{}, ctx.Err()
}

// A caller who talks over the reply cancels the model's stream: what was
// already handed over is stored as the AI's reply, cut short, and nothing
// else is said or decided in that turn. Without an interrupt the same
// responder would hold the turn until its context ended.
func TestInterruptCancelsTheReply(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sentences []string
		heard     func() int // Inbound.Heard
		stored    string     // the AI message stored, "" for none
	}{
		{"after two sentences", []string{"Your order left on Monday.", "It is with the courier."}, nil,
			"Your order left on Monday. It is with the courier."},
		// The channel had both but the customer heard only the first begin.
		{"heard one of two", []string{"Your order left on Monday.", "It is with the courier."}, func() int { return 1 },
			"Your order left on Monday."},
		{"before a word", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			core := dialogtest.New(t, "balanced", nil)
			policy, err := handoff.New(core.Config.Handoff)
			if err != nil {
				t.Fatal(err)
			}
			resp := &talker{sentences: tc.sentences, cancelled: make(chan struct{})}
			live := dialog.Live{Policy: policy, Responder: resp, Handoff: core.Config.Handoff}
			m := dialog.NewMetrics(prometheus.NewRegistry())
			turns := dialog.NewConductor(core.Store, func() dialog.Live { return live }, m, time.Now,
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			conv, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: "voice", Customer: "+15551230001"})
			if err != nil {
				t.Fatal(err)
			}
			interrupt := make(chan struct{})
			var heard []string
			go func() { // the caller starts talking once the reply has begun (or at once)
				time.Sleep(50 * time.Millisecond)
				close(interrupt)
			}()
			out, err := turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "where is my order",
				OnSentence: func(s string) { heard = append(heard, s) }, Interrupt: interrupt, Heard: tc.heard})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-resp.cancelled:
			default:
				t.Fatal("the responder's stream was not cancelled")
			}
			if out.Handoff != nil || out.Decision.Handoff {
				t.Fatalf("an interrupted turn handed off: %+v", out.Decision)
			}
			msgs, err := core.Store.Messages(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ai []store.Message
			for _, m := range msgs {
				if m.Role == store.RoleAI {
					ai = append(ai, m)
				}
			}
			switch {
			case tc.stored == "" && len(ai) != 0:
				t.Fatalf("stored AI messages %+v, want none", ai)
			case tc.stored != "" && (len(ai) != 1 || ai[0].Text != tc.stored || out.Streamed != ai[0].ID):
				t.Fatalf("stored AI messages %+v (streamed %d), want one: %q", ai, out.Streamed, tc.stored)
			}
			if len(heard) != len(tc.sentences) {
				t.Fatalf("channel got %q", heard)
			}
			if got := testutil.ToFloat64(dialog.InterruptedCounter(m, "voice")); got != 1 {
				t.Fatalf("interrupted counter = %v, want 1", got)
			}
		})
	}
}

// A turn whose context ends (the call hung up) is an error, not an
// interruption: nothing is stored as said.
func TestCancelledTurnIsNotAnInterruption(t *testing.T) {
	core := dialogtest.New(t, "balanced", nil)
	policy, err := handoff.New(core.Config.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	resp := &talker{sentences: []string{"One moment."}, cancelled: make(chan struct{})}
	live := dialog.Live{Policy: policy, Responder: resp, Handoff: core.Config.Handoff}
	turns := dialog.NewConductor(core.Store, func() dialog.Live { return live }, dialog.NewMetrics(prometheus.NewRegistry()),
		time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	conv, err := core.Store.CreateConversation(context.Background(), store.Conversation{Channel: "voice", Customer: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hello",
		OnSentence: func(string) {}, Interrupt: make(chan struct{})})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the turn's deadline", err)
	}
}
