package desk_test

import (
	"slices"
	"testing"
	"time"

	"switchboard/events"
	"switchboard/store"
)

// What an agent does to a conversation is a line of its transcript, told
// to every stream once: the visitor's thread, the console and a reload
// all show the same events.
func TestActionsAreSystemMessagesInTheTranscript(t *testing.T) {
	st := sqliteStore(t)
	bus := events.NewInProcess("a")
	defer bus.Close()
	in := newInstance(t, st, bus, "a")
	id := waiting(t, st, "web")
	sub := bus.Subscribe(events.Filter{ConversationID: id, Kinds: []events.Kind{events.Message}})
	defer sub.Close()
	path := "/api/v1/agent/conversations/" + string(id)

	for range 2 { // claiming again announces nothing more
		if status, body := in.do("POST", path+"/claim", tokSam, nil); status != 200 {
			t.Fatalf("claim = %d %v", status, body)
		}
	}
	if status, _ := in.do("POST", path+"/return-to-ai", tokSam, nil); status != 200 {
		t.Fatalf("return = %d", status)
	}
	if _, err := st.RequestHandoff(t.Context(), store.Handoff{ConversationID: id, Trigger: "explicit_request"}); err != nil {
		t.Fatal(err)
	}
	in.do("POST", path+"/claim", tokAlex, nil)
	if status, _ := in.do("POST", path+"/resolve", tokAlex, nil); status != 200 {
		t.Fatalf("resolve = %d", status)
	}

	want := []string{
		"Sam joined the conversation.",
		"Sam handed the conversation back to the assistant.",
		"Alex joined the conversation.",
		"Alex marked the conversation as resolved.",
	}
	ms, err := st.Messages(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		if m.Role == store.RoleSystem {
			got = append(got, m.Text)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("system messages = %q, want %q", got, want)
	}
	var published []int64
	for len(published) < len(want) {
		select {
		case e := <-sub.C():
			published = append(published, e.MessageID)
		case <-time.After(5 * time.Second):
			t.Fatalf("published %d message events, want %d", len(published), len(want))
		}
	}
	select {
	case e := <-sub.C():
		t.Errorf("an extra message event: %+v", e)
	default:
	}
}
