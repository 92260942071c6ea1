package dialog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/events"
	"switchboard/handoff"
	"switchboard/store"
)

// A caller pressing 0 asks for a human without words: the turn hands off on
// the explicit trigger at every level that transfers, and not on ai_only.
func TestExplicitWithoutWords(t *testing.T) {
	for _, tc := range []struct {
		level   string
		handoff bool
	}{
		{"quick", true}, {"balanced", true}, {"ai_only", false},
	} {
		// The shipped config sets voice to quick; web follows the level.
		t.Run(tc.level, func(t *testing.T) {
			r := newRig(t, tc.level)
			id := r.conversation(t, "web")
			out, err := r.turns.CustomerMessage(context.Background(), dialog.Inbound{ConversationID: id, Text: "(pressed 0)", Explicit: true})
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision.Trigger != handoff.TriggerExplicit || out.Decision.Handoff != tc.handoff {
				t.Fatalf("decision = %+v, want explicit trigger, handoff %v", out.Decision, tc.handoff)
			}
			// Without the flag the same text is no request.
			id2 := r.conversation(t, "web")
			out = r.say(t, id2, "(pressed 0)", "")
			if out.Decision.Trigger == handoff.TriggerExplicit {
				t.Fatalf("text alone triggered: %+v", out.Decision)
			}
		})
	}
}

// When nobody answers the transfer, the AI has the conversation again, a
// callback follow-up carries the context, and the customer is told.
func TestTransferFailedRecordsCallback(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, "quick")
	id := r.conversation(t, "voice")
	out := r.say(t, id, "I want to speak to a human agent", "")
	if out.Handoff == nil || r.state(t, id) != store.StatePendingHuman {
		t.Fatalf("no handoff: %+v", out)
	}
	msg, err := r.turns.TransferFailed(ctx, *out.Handoff, "no answer within 30s")
	if err != nil {
		t.Fatal(err)
	}
	if msg.Text != r.cfg.Handoff.Messages.TransferFailed || msg.Role != store.RoleAI {
		t.Fatalf("message = %+v", msg)
	}
	if st := r.state(t, id); st != store.StateAI {
		t.Fatalf("state = %s, want ai", st)
	}
	hs, err := r.store.Handoffs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Status != store.HandoffReturned || hs[1].Status != store.HandoffFollowUp ||
		hs[1].Target != "callback" || hs[1].Reason != out.Handoff.Reason {
		t.Fatalf("handoffs = %+v", hs)
	}
	if err := r.turns.Note(ctx, id, "Transferred by REFER"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := r.store.Messages(ctx, id)
	if last := msgs[len(msgs)-1]; last.Role != store.RoleSystem || last.Text != "Transferred by REFER" {
		t.Fatalf("last message = %+v", last)
	}
}

// A call whose instance died: the transcript says it was cut off, and a
// handoff still waiting for its transfer becomes a callback; a call in
// the AI's hands only gets the note.
func TestCallAbandoned(t *testing.T) {
	ctx := context.Background()
	noticed := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	r := newRig(t, "quick")

	waiting := r.conversation(t, "voice")
	out := r.say(t, waiting, "I want to speak to a human agent", "")
	if out.Handoff == nil {
		t.Fatalf("no handoff: %+v", out)
	}
	if err := r.turns.CallAbandoned(ctx, waiting, noticed); err != nil {
		t.Fatal(err)
	}
	if st := r.state(t, waiting); st != store.StateAI {
		t.Errorf("state %s after the abandon, want ai (nothing left pending)", st)
	}
	hs, err := r.store.Handoffs(ctx, waiting)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Status != store.HandoffReturned || hs[1].Status != store.HandoffFollowUp || hs[1].Target != "callback" {
		t.Errorf("handoffs %+v, want the pending one returned and a callback follow-up", hs)
	}
	msgs, _ := r.store.Messages(ctx, waiting)
	var notes []string
	for _, m := range msgs {
		if m.Role == store.RoleSystem {
			notes = append(notes, m.Text)
		}
	}
	if !slices.ContainsFunc(notes, func(s string) bool {
		return strings.Contains(s, "abandoned") && strings.Contains(s, "2026-12-08T03:00:00Z")
	}) ||
		!slices.ContainsFunc(notes, func(s string) bool { return strings.Contains(s, "callback recorded") }) {
		t.Errorf("notes %q, want the abandon with its time and the callback", notes)
	}

	talking := r.conversation(t, "voice")
	r.say(t, talking, "Where is my order?", "")
	if err := r.turns.CallAbandoned(ctx, talking, noticed); err != nil {
		t.Fatal(err)
	}
	if hs, _ := r.store.Handoffs(ctx, talking); len(hs) != 0 {
		t.Errorf("handoffs %+v for a call the AI had, want none", hs)
	}
	msgs, _ = r.store.Messages(ctx, talking)
	if last := msgs[len(msgs)-1]; last.Role != store.RoleSystem || !strings.Contains(last.Text, "abandoned") {
		t.Errorf("last message %+v, want the abandon note", last)
	}
}

// What a channel notes, and what a failed transfer or an abandoned call
// changes, reaches the conversation's streams at once: a message event per
// stored message, the state back to the AI and the callback's handoff.
func TestNotesAndCallbacksArePublished(t *testing.T) {
	ctx := context.Background()
	core := dialogtest.New(t, "quick", nil)
	conv, err := core.Store.CreateConversation(ctx, store.Conversation{Channel: store.ChannelVoice, Customer: "+15551234567"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := core.Turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: "I want to speak to a human agent"})
	if err != nil || out.Handoff == nil {
		t.Fatalf("no handoff: %+v %v", out, err)
	}
	sub := core.Bus.Subscribe(events.Filter{ConversationID: conv.ID})
	defer sub.Close()
	if err := core.Turns.Note(ctx, conv.ID, "Bridged to support; the AI has left the call."); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Turns.TransferFailed(ctx, *out.Handoff, "no answer within 30s"); err != nil {
		t.Fatal(err)
	}
	var kinds []events.Kind
	for len(kinds) < 5 {
		select {
		case e := <-sub.C():
			kinds = append(kinds, e.Kind)
		case <-time.After(5 * time.Second):
			t.Fatalf("events %v, want a message (the note), the state, the callback and two messages", kinds)
		}
	}
	want := []events.Kind{events.Message, events.State, events.Handoff, events.Message, events.Message}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}
