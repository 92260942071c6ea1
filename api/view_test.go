package api_test

import (
	"path/filepath"
	"testing"

	"switchboard/api"
	"switchboard/events"
	"switchboard/store"
	"switchboard/store/sqlite"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func appendMsg(t *testing.T, st store.Store, id store.ConversationID, role store.Role, text, agent string) store.Message {
	t.Helper()
	m, _, err := st.AppendMessage(t.Context(), store.Message{ConversationID: id, Role: role, Text: text, Agent: agent})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func types(evs []api.Event) []string {
	var out []string
	for _, e := range evs {
		s := e.Type
		if e.Message != nil {
			s += ":" + e.Message.Text
		}
		out = append(out, s)
	}
	return out
}

// A stream that missed events catches up from the store: each missed
// message once, then where the conversation stands; what it already showed
// is not shown again.
func TestViewCatchesUpWhatTheStreamMissed(t *testing.T) {
	st := newStore(t)
	c, err := st.CreateConversation(t.Context(), store.Conversation{Channel: store.ChannelWeb, Customer: "v"})
	if err != nil {
		t.Fatal(err)
	}
	before := appendMsg(t, st, c.ID, store.RoleCustomer, "hello", "")
	names := func(id string) string { return map[string]string{"sam": "Sam"}[id] }
	v, err := api.NewView(t.Context(), st, names, c)
	if err != nil {
		t.Fatal(err)
	}
	// History the client fetched itself is not repeated.
	if out, _ := v.Render(t.Context(), events.Event{Kind: events.Message, ConversationID: c.ID, MessageID: before.ID}); len(out) != 0 {
		t.Errorf("a message the client had was shown again: %v", types(out))
	}
	seen := appendMsg(t, st, c.ID, store.RoleAI, "hi there", "")
	out, err := v.Render(t.Context(), events.Event{Kind: events.Message, ConversationID: c.ID, MessageID: seen.ID})
	if err != nil || len(out) != 1 || out[0].Message.Text != "hi there" {
		t.Fatalf("Render = %v, %v; want the AI's message", types(out), err)
	}
	// Missed: two messages, a handoff and a claim.
	appendMsg(t, st, c.ID, store.RoleCustomer, "a human please", "")
	if _, err := st.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Trigger: "explicit_request", Reason: "customer_request"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Claim(t.Context(), c.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	appendMsg(t, st, c.ID, store.RoleAgent, "Sam here", "sam")
	out, err = v.CatchUp(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := types(out)
	want := []string{"message:a human please", "message:Sam here", "agent_joined"}
	if len(got) != len(want) {
		t.Fatalf("CatchUp = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("CatchUp = %v, want %v", got, want)
		}
	}
	if out[1].Message.Agent != "Sam" || out[2].Agent != "Sam" {
		t.Errorf("agent shown as %q / %q, want Sam", out[1].Message.Agent, out[2].Agent)
	}
	if again, _ := v.CatchUp(t.Context()); len(again) != 0 {
		t.Errorf("a second catch-up repeated %v", types(again))
	}
	// Events of another conversation are not this stream's.
	if out, _ := v.Render(t.Context(), events.Event{Kind: events.State, ConversationID: "other", State: store.StateResolved}); len(out) != 0 {
		t.Errorf("another conversation's event shown: %v", types(out))
	}
}
