package dialog_test

import (
	"context"
	"testing"

	"switchboard/store"
)

// A message that arrived while an agent held the conversation is answered
// by the AI once the conversation is returned to it; one that was answered
// already, or a conversation humans still hold, gets nothing more.
func TestAnswerPendingAfterReturnToAI(t *testing.T) {
	r := newRig(t, "balanced")
	ctx := context.Background()
	id := r.conversation(t, "web")
	r.say(t, id, "I want to talk to a human", "")
	if err := r.store.Claim(ctx, id, "sam"); err != nil {
		t.Fatal(err)
	}
	r.say(t, id, "How long do I have to return an item?", "") // stored under the humans
	if out, err := r.turns.AnswerPending(ctx, id); err != nil || len(out.Replies) != 0 {
		t.Fatalf("while an agent holds it: %+v, %v; want nothing", out.Replies, err)
	}
	if err := r.store.ReturnToAI(ctx, id, "sam"); err != nil {
		t.Fatal(err)
	}
	out, err := r.turns.AnswerPending(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Replies) != 1 || out.Message.Text != "How long do I have to return an item?" {
		t.Fatalf("replies = %+v to %q; want the AI's answer to the pending question", out.Replies, out.Message.Text)
	}
	ms, _ := r.store.Messages(ctx, id)
	if last := ms[len(ms)-1]; last.Role != store.RoleAI {
		t.Errorf("last message is %s's, want the AI's", last.Role)
	}
	if again, _ := r.turns.AnswerPending(ctx, id); len(again.Replies) != 0 {
		t.Errorf("answered twice: %+v", again.Replies)
	}
}
