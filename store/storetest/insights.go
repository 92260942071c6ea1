package storetest

import (
	"fmt"
	"testing"
	"time"

	"switchboard/store"
)

// zone is a time zone other than UTC, for windows given in local time.
var zone = time.FixedZone("CEST", 2*3600)

func testHandoffsSince(t *testing.T, open opener) {
	t.Run("Window", func(t *testing.T) { testHandoffWindow(t, open(t)) })
	t.Run("Empty", func(t *testing.T) {
		hs, err := open(t).HandoffsSince(t.Context(), time.Time{}, 0)
		checkErr(t, "HandoffsSince on an empty store", err, nil)
		if len(hs) != 0 {
			t.Errorf("HandoffsSince on an empty store = %+v, want none", hs)
		}
	})
	t.Run("NegativeLimit", func(t *testing.T) {
		_, err := open(t).HandoffsSince(t.Context(), t0, -1)
		checkErr(t, "HandoffsSince(limit -1)", err, store.ErrInvalid)
	})
}

// testHandoffWindow records handoffs on three channels in an order their
// times do not follow, and reads windows of them.
func testHandoffWindow(t *testing.T, s store.Store) {
	sms := create(t, s, store.Conversation{Channel: "sms"})
	web := create(t, s, store.Conversation{Channel: store.ChannelWeb})
	voice := create(t, s, store.Conversation{Channel: "voice"})
	request := func(c store.Conversation, status string, at time.Time) int64 {
		t.Helper()
		h, err := s.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Reason: "customer_request",
			Status: status, CreatedAt: at})
		checkErr(t, "RequestHandoff", err, nil)
		return h.ID
	}
	late := request(sms, store.HandoffPending, t0.Add(2*time.Minute))
	early := request(web, store.HandoffPending, t0.Add(-time.Minute))
	followUp := request(voice, store.HandoffFollowUp, t0.Add(time.Minute))
	tie := request(voice, store.HandoffPending, t0.Add(time.Minute)) // same time: ID order
	first := request(sms, store.HandoffFollowUp, t0)                 // sms is pending_human by now
	// The window shows a handoff as it is now, not as it was requested.
	checkErr(t, "Claim", s.Claim(t.Context(), sms.ID, "alice"), nil)

	want := map[int64]store.Handoff{}
	for _, c := range []store.Conversation{sms, web, voice} {
		for _, h := range handoffs(t, s, c.ID) {
			if h.Channel != c.Channel {
				t.Errorf("Handoffs(%s): handoff %d has Channel %q, want %q", c.ID, h.ID, h.Channel, c.Channel)
			}
			want[h.ID] = h
		}
	}
	if h := want[late]; h.Status != store.HandoffClaimed || h.Agent != "alice" {
		t.Fatalf("claimed handoff = %+v, want claimed by alice", h)
	}
	for _, tc := range []struct {
		name  string
		since time.Time
		limit int
		want  []int64
	}{
		{"from t0, boundary included", t0, 0, []int64{first, followUp, tie, late}},
		{"from t0 in another zone", t0.In(zone), 0, []int64{first, followUp, tie, late}},
		{"from just before t0", t0.Add(-time.Nanosecond), 0, []int64{first, followUp, tie, late}},
		{"from just after t0", t0.Add(time.Nanosecond), 0, []int64{followUp, tie, late}},
		{"from t0+1m", t0.Add(time.Minute), 0, []int64{followUp, tie, late}},
		{"all time", time.Time{}, 0, []int64{early, first, followUp, tie, late}},
		{"limit", t0, 2, []int64{first, followUp}},
		{"limit one", t0.Add(time.Minute), 1, []int64{followUp}},
		{"after the last", t0.Add(2*time.Minute + time.Microsecond), 0, nil},
	} {
		hs, err := s.HandoffsSince(t.Context(), tc.since, tc.limit)
		checkErr(t, tc.name, err, nil)
		got := make([]int64, len(hs))
		for i, h := range hs {
			got[i] = h.ID
			if w := want[h.ID]; !sameHandoff(h, w) {
				t.Errorf("%s: handoff %+v, want %+v", tc.name, h, w)
			}
		}
		checkIDs(t, tc.name, got, tc.want...)
	}
}

func testUnanswered(t *testing.T, open opener) {
	t.Run("Window", func(t *testing.T) { testUnansweredWindow(t, open(t)) })
	t.Run("Empty", func(t *testing.T) {
		ms, err := open(t).Unanswered(t.Context(), time.Time{}, 0)
		checkErr(t, "Unanswered on an empty store", err, nil)
		if len(ms) != 0 {
			t.Errorf("Unanswered on an empty store = %+v, want none", ms)
		}
	})
	t.Run("NegativeLimit", func(t *testing.T) {
		_, err := open(t).Unanswered(t.Context(), t0, -1)
		checkErr(t, "Unanswered(limit -1)", err, store.ErrInvalid)
	})
}

// testUnansweredWindow writes conversations in which only the very next
// message of the same conversation decides whether a customer message went
// unanswered, interleaved so that the next message overall is often another
// conversation's.
func testUnansweredWindow(t *testing.T, s store.Store) {
	x := create(t, s, store.Conversation{Channel: "sms"})
	y := create(t, s, store.Conversation{Channel: store.ChannelWeb})
	z := create(t, s, store.Conversation{Channel: "voice"})
	stored := map[string]store.Message{}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	say := func(c store.Conversation, role store.Role, text string, created time.Time) {
		t.Helper()
		m, _, err := s.AppendMessage(t.Context(), store.Message{ConversationID: c.ID, Role: role, Text: text,
			CreatedAt: created})
		checkErr(t, "AppendMessage", err, nil)
		stored[text] = m
	}
	stuck := func(c store.Conversation, created time.Time) { // an unresolved AI reply
		t.Helper()
		_, _, err := s.AppendMessage(t.Context(), store.Message{ConversationID: c.ID, Role: store.RoleAI,
			Text: "sorry, I don't know", Unresolved: true, Gap: store.GapMissingKnowledge, CreatedAt: created})
		checkErr(t, "AppendMessage", err, nil)
	}
	say(x, store.RoleCustomer, "before", at(-time.Minute))
	stuck(x, at(-time.Minute+time.Second))
	say(x, store.RoleCustomer, "q1", at(0)) // unanswered, on the boundary
	stuck(x, at(time.Second))
	say(x, store.RoleCustomer, "q2", at(time.Minute)) // answered; the unresolved reply after is not to it
	say(x, store.RoleAI, "resolved", at(time.Minute+time.Second))
	stuck(x, at(time.Minute+2*time.Second))
	say(x, store.RoleCustomer, "q3", at(2*time.Minute))  // unanswered, though y1 comes next overall
	say(y, store.RoleCustomer, "y1", at(30*time.Second)) // unanswered, written after q3 but earlier
	stuck(x, at(2*time.Minute+time.Second))
	stuck(y, at(31*time.Second))
	say(x, store.RoleCustomer, "q4", at(3*time.Minute)) // an agent answered first
	say(x, store.RoleAgent, "agent", at(3*time.Minute+time.Second))
	stuck(x, at(3*time.Minute+2*time.Second))
	say(x, store.RoleCustomer, "q5", at(4*time.Minute)) // the customer went on: q6 is the question
	say(x, store.RoleCustomer, "q6", at(4*time.Minute+time.Second))
	stuck(x, at(4*time.Minute+2*time.Second))
	say(x, store.RoleCustomer, "q7", at(5*time.Minute)) // a system message came first
	_, _, err := s.AppendMessage(t.Context(), store.Message{ConversationID: x.ID, Role: store.RoleSystem,
		Text: "unresolved, but not an AI turn", Unresolved: true, CreatedAt: at(5*time.Minute + time.Second)})
	checkErr(t, "AppendMessage", err, nil)
	stuck(x, at(5*time.Minute+2*time.Second))
	say(y, store.RoleCustomer, "y2", at(6*time.Minute)) // no reply in y; x's comes next overall
	stuck(x, at(6*time.Minute+time.Second))
	say(z, store.RoleCustomer, "z1", at(0)) // unanswered, at the same time as q1
	stuck(z, at(time.Second))
	say(x, store.RoleCustomer, "q8", at(7*time.Minute)) // no reply yet

	for _, tc := range []struct {
		name  string
		since time.Time
		limit int
		want  []string
	}{
		{"from t0, boundary included", t0, 0, []string{"q6", "q3", "y1", "z1", "q1"}},
		{"from just before t0 in another zone", t0.Add(-time.Nanosecond).In(zone), 0, []string{"q6", "q3", "y1", "z1", "q1"}},
		{"from just after t0", t0.Add(time.Nanosecond), 0, []string{"q6", "q3", "y1"}},
		{"from q3", t0.Add(2 * time.Minute), 0, []string{"q6", "q3"}},
		{"all time", time.Time{}, 0, []string{"q6", "q3", "y1", "z1", "q1", "before"}},
		{"limit", t0, 2, []string{"q6", "q3"}},
		{"after the last", t0.Add(10 * time.Minute), 0, nil},
	} {
		ms, err := s.Unanswered(t.Context(), tc.since, tc.limit)
		checkErr(t, tc.name, err, nil)
		got := make([]string, len(ms))
		for i, m := range ms {
			got[i] = m.Text
			if w := stored[m.Text]; !sameMessage(m, w) {
				t.Errorf("%s: message %+v, want %+v", tc.name, m, w)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: Unanswered = %q, want %q", tc.name, got, tc.want)
		}
	}
}
