package dialog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/store"
)

// overlapping is a responder that counts the replies it writes at once.
type overlapping struct {
	next            dialog.Responder
	inside, maxSeen atomic.Int32
}

func (o *overlapping) Respond(ctx context.Context, req dialog.Request) (dialog.Reply, error) {
	n := o.inside.Add(1)
	defer o.inside.Add(-1)
	for {
		m := o.maxSeen.Load()
		if n <= m || o.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond) // a model's think time, for another turn to overlap
	return o.next.Respond(ctx, req)
}

// Customer messages of one conversation that arrive together are answered
// one after the other: each turn sees the one before it.
func TestTurnsOfOneConversationRunOneAtATime(t *testing.T) {
	var resp *overlapping
	core := dialogtest.NewWith(t, "ai_only", nil, func(_ *dialog.Knowledge, _ *config.Config, embedded dialog.Responder) dialog.Responder {
		resp = &overlapping{next: embedded}
		return resp
	})
	conv, err := core.Store.CreateConversation(t.Context(), store.Conversation{Channel: store.ChannelWeb, Customer: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			in := dialog.Inbound{ConversationID: conv.ID, Text: "How long do I have to return an item?", IdempotencyKey: fmt.Sprint("m", i)}
			if _, err := core.Turns.CustomerMessage(t.Context(), in); err != nil {
				t.Errorf("CustomerMessage: %v", err)
			}
		})
	}
	wg.Wait()
	if m := resp.maxSeen.Load(); m != 1 {
		t.Errorf("%d replies of one conversation written at once, want 1", m)
	}
	msgs, err := core.Store.Messages(t.Context(), conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(msgs); i += 2 {
		if msgs[i].Role != store.RoleCustomer || msgs[i+1].Role != store.RoleAI {
			t.Fatalf("message %d and %d are %s, %s: want each customer message followed by its answer",
				i, i+1, msgs[i].Role, msgs[i+1].Role)
		}
	}
	if len(msgs) != 2*n {
		t.Errorf("%d messages, want %d questions and their answers", len(msgs), 2*n)
	}
}

// The conductor waits for the store's lock on the conversation, which
// another instance may hold; a channel that stops waiting gets its
// context's error and nothing is stored, so the message is not
// acknowledged and comes again.
func TestTurnWaitsForTheConversationLock(t *testing.T) {
	core := dialogtest.New(t, "balanced", nil)
	conv, err := core.Store.CreateConversation(t.Context(), store.Conversation{Channel: store.ChannelWeb, Customer: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := core.Store.LockConversation(t.Context(), conv.ID) // another instance's turn
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = core.Turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "hello?", IdempotencyKey: "m1"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CustomerMessage while the conversation is locked = %v, want the deadline", err)
	}
	if msgs, err := core.Store.Messages(t.Context(), conv.ID); err != nil || len(msgs) != 0 {
		t.Fatalf("messages = %+v, %v; want none stored", msgs, err)
	}
	unlock()
	out, err := core.Turns.CustomerMessage(t.Context(), dialog.Inbound{ConversationID: conv.ID, Text: "hello?", IdempotencyKey: "m1"})
	if err != nil || out.Duplicate || len(out.Replies) != 1 {
		t.Fatalf("CustomerMessage once the lock is free = %+v, %v; want it answered", out, err)
	}
}
