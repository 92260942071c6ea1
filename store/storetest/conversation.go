package storetest

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"switchboard/store"
)

func testConversations(t *testing.T, open opener) {
	t.Run("CreateFillsDefaults", func(t *testing.T) { testCreateDefaults(t, open(t)) })
	t.Run("CreateKeepsGivenFields", func(t *testing.T) {
		s := open(t)
		in := store.Conversation{ID: "call-42", Channel: "voice", Customer: "sip:bob@example.com",
			State: store.StatePendingHuman, CreatedAt: t0}
		c := create(t, s, in)
		in.UpdatedAt = t0
		if !sameConversation(c, in) || !sameConversation(get(t, s, "call-42"), in) {
			t.Errorf("created %+v, want %+v", c, in)
		}
	})
	t.Run("CreateRejects", func(t *testing.T) {
		s := open(t)
		create(t, s, store.Conversation{ID: "taken"})
		for _, tc := range []struct {
			name string
			c    store.Conversation
			want error
		}{
			{"duplicate ID", store.Conversation{ID: "taken", Channel: store.ChannelWeb}, store.ErrExists},
			{"unknown state", store.Conversation{Channel: store.ChannelWeb, State: "closed"}, store.ErrInvalid},
			{"unknown channel", store.Conversation{Channel: "webchat"}, store.ErrInvalid},
			{"no channel", store.Conversation{}, store.ErrInvalid},
		} {
			_, err := s.CreateConversation(t.Context(), tc.c)
			checkErr(t, tc.name, err, tc.want)
		}
	})
	t.Run("UnknownIsNotFound", func(t *testing.T) {
		_, err := open(t).Conversation(t.Context(), "no-such-conversation")
		checkErr(t, "Conversation", err, store.ErrNotFound)
	})
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("ListDefaultLimit", func(t *testing.T) {
		s := open(t)
		for i := range store.DefaultListLimit + 1 {
			create(t, s, store.Conversation{ID: store.ConversationID(fmt.Sprintf("c%03d", i))})
		}
		list, err := s.ListConversations(t.Context(), store.ListFilter{})
		checkErr(t, "ListConversations", err, nil)
		if len(list) != store.DefaultListLimit {
			t.Errorf("listed %d conversations, want the default limit %d", len(list), store.DefaultListLimit)
		}
	})
}

// testCreateDefaults creates a conversation from almost nothing.
func testCreateDefaults(t *testing.T, s store.Store) {
	before := time.Now()
	c := create(t, s, store.Conversation{Channel: "sms", Customer: "+15550100"})
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(string(c.ID)) {
		t.Errorf("ID = %q, want 128-bit hex", c.ID)
	}
	if c.State != store.StateAI || c.Agent != "" || c.Channel != "sms" || c.Customer != "+15550100" {
		t.Errorf("created %+v, want state ai, no agent, channel and customer kept", c)
	}
	recent(t, "CreatedAt", c.CreatedAt, before)
	if !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("UpdatedAt = %v, want CreatedAt %v", c.UpdatedAt, c.CreatedAt)
	}
	if got := get(t, s, c.ID); !sameConversation(got, c) {
		t.Errorf("Conversation = %+v, want %+v", got, c)
	}
	other := create(t, s, store.Conversation{Channel: "sms"})
	if other.ID == c.ID {
		t.Errorf("two conversations share ID %s", c.ID)
	}
}

// testList creates conversations updated at t0, t0+1m, ... and lists them.
func testList(t *testing.T, s store.Store) {
	states := []store.State{store.StateAI, store.StateHuman, store.StateAI, store.StateResolved, store.StatePendingHuman}
	for i, st := range states {
		create(t, s, store.Conversation{ID: store.ConversationID(fmt.Sprintf("c%d", i)), State: st,
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	for _, tc := range []struct {
		name string
		f    store.ListFilter
		want []store.ConversationID
		err  error
	}{
		{"all, newest first", store.ListFilter{}, ids("c4", "c3", "c2", "c1", "c0"), nil},
		{"one state", store.ListFilter{States: []store.State{store.StateAI}}, ids("c2", "c0"), nil},
		{"two states", store.ListFilter{States: []store.State{store.StateHuman, store.StatePendingHuman}}, ids("c4", "c1"), nil},
		{"limit", store.ListFilter{Limit: 2}, ids("c4", "c3"), nil},
		{"state and limit", store.ListFilter{States: []store.State{store.StateAI}, Limit: 1}, ids("c2"), nil},
		{"repeated state", store.ListFilter{States: []store.State{store.StateResolved, store.StateResolved}}, ids("c3"), nil},
		{"negative limit", store.ListFilter{Limit: -1}, nil, store.ErrInvalid},
		{"unknown state", store.ListFilter{States: []store.State{"open"}}, nil, store.ErrInvalid},
	} {
		list, err := s.ListConversations(t.Context(), tc.f)
		checkErr(t, tc.name, err, tc.err)
		if got := idsOf(list); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: listed %v, want %v", tc.name, got, tc.want)
		}
	}
	// A new message makes the oldest conversation the most recently updated.
	if _, _, err := s.AppendMessage(t.Context(), store.Message{ConversationID: "c0", Role: store.RoleCustomer, Text: "hi"}); err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	list, err := s.ListConversations(t.Context(), store.ListFilter{Limit: 1})
	checkErr(t, "ListConversations after a message", err, nil)
	if got := idsOf(list); len(got) != 1 || got[0] != "c0" {
		t.Errorf("after a message to c0, newest is %v, want c0", got)
	}
}

func ids(s ...store.ConversationID) []store.ConversationID { return s }

func idsOf(cs []store.Conversation) []store.ConversationID {
	out := make([]store.ConversationID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func sameConversation(a, b store.Conversation) bool {
	return a.ID == b.ID && a.Channel == b.Channel && a.Customer == b.Customer && a.State == b.State &&
		a.Agent == b.Agent && a.ThreadKey == b.ThreadKey && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
