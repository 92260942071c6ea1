package storetest

import (
	"testing"
	"time"

	"switchboard/store"
)

func testHandoffs(t *testing.T, open opener) {
	t.Run("RequestMovesToPendingHuman", func(t *testing.T) {
		s := open(t)
		c := create(t, s, store.Conversation{Channel: store.ChannelSlack, CreatedAt: t0})
		before := time.Now()
		in := store.Handoff{ConversationID: c.ID, Trigger: "frustration", Reason: "frustration", Topic: "billing",
			Summary: "double charge, angry", Target: "billing-queue", Sentiment: -0.75,
			Channel: "ignored: read from the conversation"}
		h, err := s.RequestHandoff(t.Context(), in)
		checkErr(t, "RequestHandoff", err, nil)
		recent(t, "handoff CreatedAt", h.CreatedAt, before)
		in.ID, in.Status, in.CreatedAt, in.UpdatedAt = h.ID, store.HandoffPending, h.CreatedAt, h.CreatedAt
		in.Channel = store.ChannelSlack
		if h.ID == 0 || !sameHandoff(h, in) {
			t.Errorf("RequestHandoff = %+v, want %+v", h, in)
		}
		if hs := handoffs(t, s, c.ID); len(hs) != 1 || !sameHandoff(hs[0], in) {
			t.Errorf("Handoffs = %+v, want [%+v]", hs, in)
		}
		got := get(t, s, c.ID)
		if got.State != store.StatePendingHuman || !got.UpdatedAt.After(t0) {
			t.Errorf("conversation after handoff = %+v, want pending_human and updated", got)
		}
	})
	t.Run("WrongStateWritesNothing", func(t *testing.T) { testHandoffWrongState(t, open(t)) })
	t.Run("FollowUpKeepsState", func(t *testing.T) { testFollowUp(t, open(t)) })
	t.Run("Rejects", func(t *testing.T) {
		s := open(t)
		c := create(t, s, store.Conversation{})
		for _, tc := range []struct {
			name string
			h    store.Handoff
			want error
		}{
			{"unknown conversation", store.Handoff{ConversationID: "nope"}, store.ErrNotFound},
			{"claimed is not a new status", store.Handoff{ConversationID: c.ID, Status: store.HandoffClaimed}, store.ErrInvalid},
			{"unknown status", store.Handoff{ConversationID: c.ID, Status: "open"}, store.ErrInvalid},
		} {
			_, err := s.RequestHandoff(t.Context(), tc.h)
			checkErr(t, tc.name, err, tc.want)
		}
		if got := get(t, s, c.ID); got.State != store.StateAI || len(handoffs(t, s, c.ID)) != 0 {
			t.Errorf("rejected handoffs changed the conversation: %+v", got)
		}
		_, err := s.Handoffs(t.Context(), "nope")
		checkErr(t, "Handoffs of unknown conversation", err, store.ErrNotFound)
	})
}

func testHandoffWrongState(t *testing.T, s store.Store) {
	for _, st := range []store.State{store.StatePendingHuman, store.StateHuman, store.StateResolved} {
		c := create(t, s, store.Conversation{State: st, CreatedAt: t0})
		_, err := s.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Reason: "customer_request"})
		checkErr(t, "RequestHandoff in state "+string(st), err, store.ErrWrongState)
		if got := get(t, s, c.ID); !sameConversation(got, c) {
			t.Errorf("state %s: conversation changed to %+v", st, got)
		}
		if hs := handoffs(t, s, c.ID); len(hs) != 0 {
			t.Errorf("state %s: refused handoff was recorded: %+v", st, hs)
		}
	}
}

// testFollowUp records follow-ups (no agent online) without moving the
// conversation, in ai and while an agent holds it, oldest first.
func testFollowUp(t *testing.T, s store.Store) {
	for _, st := range []store.State{store.StateAI, store.StateHuman} {
		c := create(t, s, store.Conversation{Channel: "email", State: st, Agent: "alice", CreatedAt: t0})
		var want []int64
		for _, reason := range []string{"after_hours", "no_agent"} {
			h, err := s.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Reason: reason, Status: store.HandoffFollowUp})
			checkErr(t, "follow-up in state "+string(st), err, nil)
			if h.Status != store.HandoffFollowUp || h.Channel != "email" {
				t.Errorf("follow-up status %q channel %q, want follow_up on email", h.Status, h.Channel)
			}
			want = append(want, h.ID)
		}
		if got := get(t, s, c.ID); !sameConversation(got, c) {
			t.Errorf("follow-up moved conversation %+v to %+v", c, got)
		}
		hs := handoffs(t, s, c.ID)
		if len(hs) != 2 || hs[0].ID != want[0] || hs[1].ID != want[1] || hs[0].Reason != "after_hours" ||
			hs[0].Channel != "email" || hs[1].Channel != "email" {
			t.Errorf("Handoffs = %+v, want IDs %v oldest first", hs, want)
		}
	}
}

func sameHandoff(a, b store.Handoff) bool {
	return a.ID == b.ID && a.ConversationID == b.ConversationID && a.Channel == b.Channel &&
		a.Trigger == b.Trigger && a.Reason == b.Reason &&
		a.Topic == b.Topic && a.Summary == b.Summary && a.Target == b.Target && a.Status == b.Status &&
		a.Sentiment == b.Sentiment && a.Agent == b.Agent && a.CreatedAt.Equal(b.CreatedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && sameTimePtr(a.ClaimedAt, b.ClaimedAt) && sameTimePtr(a.ClosedAt, b.ClosedAt)
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
