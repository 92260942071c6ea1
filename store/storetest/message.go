package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/store"
)

func testMessages(t *testing.T, open opener) {
	t.Run("AppendAndList", func(t *testing.T) { testAppend(t, open(t)) })
	t.Run("ByID", func(t *testing.T) { testMessageByID(t, open(t)) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, open(t)) })
	t.Run("ConcurrentSameKey", func(t *testing.T) { testConcurrentSameKey(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, open(t)) })
	t.Run("Rejects", func(t *testing.T) {
		s := open(t)
		c := create(t, s, store.Conversation{})
		for _, tc := range []struct {
			name string
			m    store.Message
			want error
		}{
			{"unknown conversation", store.Message{ConversationID: "nope", Role: store.RoleCustomer}, store.ErrNotFound},
			{"unknown role", store.Message{ConversationID: c.ID, Role: "bot"}, store.ErrInvalid},
			{"no role", store.Message{ConversationID: c.ID}, store.ErrInvalid},
			// PostgreSQL's text cannot hold NUL: both stores refuse it alike.
			{"NUL in text", store.Message{ConversationID: c.ID, Role: store.RoleCustomer, Text: "a\x00b"}, store.ErrInvalid},
		} {
			_, _, err := s.AppendMessage(t.Context(), tc.m)
			checkErr(t, tc.name, err, tc.want)
		}
		_, err := s.Messages(t.Context(), "nope")
		checkErr(t, "Messages of unknown conversation", err, store.ErrNotFound)
	})
}

func testAppend(t *testing.T, s store.Store) {
	c := create(t, s, store.Conversation{CreatedAt: t0})
	if ms, err := s.Messages(t.Context(), c.ID); err != nil || len(ms) != 0 {
		t.Fatalf("Messages of a new conversation = %v, %v; want none", ms, err)
	}
	before := time.Now()
	in := []store.Message{
		{ConversationID: c.ID, Role: store.RoleCustomer, Text: "where is my order?"},
		{ConversationID: c.ID, Role: store.RoleAI, Text: "I can't see it", Unresolved: true, Gap: store.GapMissingTool},
		{ConversationID: c.ID, Role: store.RoleAgent, Text: "on its way", IdempotencyKey: "slack-1", Agent: "sam"},
		{ConversationID: c.ID, Role: store.RoleSystem, Text: ""},
	}
	var stored []store.Message
	for _, m := range in {
		got, created, err := s.AppendMessage(t.Context(), m)
		if err != nil || !created {
			t.Fatalf("AppendMessage(%+v) = created %v, %v; want created", m, created, err)
		}
		recent(t, "message CreatedAt", got.CreatedAt, before)
		m.ID, m.CreatedAt = got.ID, got.CreatedAt
		if !sameMessage(got, m) {
			t.Errorf("AppendMessage returned %+v, want %+v", got, m)
		}
		if len(stored) > 0 && got.ID <= stored[len(stored)-1].ID {
			t.Errorf("message ID %d after %d, want increasing IDs", got.ID, stored[len(stored)-1].ID)
		}
		stored = append(stored, got)
	}
	checkMessages(t, s, c.ID, stored)
	if u := get(t, s, c.ID).UpdatedAt; !u.After(t0) {
		t.Errorf("conversation UpdatedAt = %v after messages, want it bumped past %v", u, t0)
	}
}

// testMessageByID reads single messages, as bus subscribers told an id do.
func testMessageByID(t *testing.T, s store.Store) {
	var stored []store.Message
	for _, c := range []store.Conversation{create(t, s, store.Conversation{}), create(t, s, store.Conversation{})} {
		for _, m := range []store.Message{
			{ConversationID: c.ID, Role: store.RoleCustomer, Text: "where is my order?", IdempotencyKey: "SM1"},
			{ConversationID: c.ID, Role: store.RoleAI, Text: "I can't see it", Unresolved: true, Gap: store.GapMissingTool},
		} {
			got, _, err := s.AppendMessage(t.Context(), m)
			checkErr(t, "AppendMessage", err, nil)
			stored = append(stored, got)
		}
	}
	for _, want := range stored {
		got, err := s.Message(t.Context(), want.ID)
		checkErr(t, "Message", err, nil)
		if !sameMessage(got, want) {
			t.Errorf("Message(%d) = %+v, want %+v", want.ID, got, want)
		}
	}
	for _, id := range []int64{0, -1, stored[len(stored)-1].ID + 1000} {
		_, err := s.Message(t.Context(), id)
		checkErr(t, "Message of an unknown id", err, store.ErrNotFound)
	}
}

func testIdempotent(t *testing.T, s store.Store) {
	a := create(t, s, store.Conversation{})
	b := create(t, s, store.Conversation{})
	first, created, err := s.AppendMessage(t.Context(), store.Message{ConversationID: a.ID, Role: store.RoleCustomer, Text: "hello", IdempotencyKey: "SM123"})
	if err != nil || !created {
		t.Fatalf("first AppendMessage = created %v, %v", created, err)
	}
	again, created, err := s.AppendMessage(t.Context(), store.Message{ConversationID: a.ID, Role: store.RoleCustomer, Text: "hello (redelivered)", IdempotencyKey: "SM123"})
	if err != nil || created || !sameMessage(again, first) {
		t.Errorf("redelivered AppendMessage = %+v, created %v, %v; want the stored %+v, not created", again, created, err, first)
	}
	other, created, err := s.AppendMessage(t.Context(), store.Message{ConversationID: b.ID, Role: store.RoleCustomer, Text: "hi", IdempotencyKey: "SM123"})
	if err != nil || !created || other.ID == first.ID {
		t.Errorf("same key in another conversation = %+v, created %v, %v; want a new message", other, created, err)
	}
	// Messages without a key are never merged.
	for range 2 {
		if _, created, err := s.AppendMessage(t.Context(), store.Message{ConversationID: a.ID, Role: store.RoleAI, Text: "same"}); err != nil || !created {
			t.Fatalf("AppendMessage without key = created %v, %v", created, err)
		}
	}
	if ms, err := s.Messages(t.Context(), a.ID); err != nil || len(ms) != 3 || ms[0].Text != "hello" {
		t.Errorf("Messages(a) = %+v, %v; want the keyed message once, then two unkeyed", ms, err)
	}
}

// testConcurrentSameKey delivers one webhook ten times at once.
func testConcurrentSameKey(t *testing.T, s store.Store) {
	c := create(t, s, store.Conversation{})
	const n = 10
	results := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, results[i], errs[i] = s.AppendMessage(t.Context(), store.Message{ConversationID: c.ID, Role: store.RoleCustomer, Text: "x", IdempotencyKey: "dup"})
		})
	}
	close(start)
	wg.Wait()
	createdCount := 0
	for i := range n {
		checkErr(t, "concurrent AppendMessage", errs[i], nil)
		if results[i] {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Errorf("%d of %d concurrent deliveries created the message, want exactly 1", createdCount, n)
	}
	if ms, err := s.Messages(t.Context(), c.ID); err != nil || len(ms) != 1 {
		t.Errorf("Messages = %d messages, %v; want 1", len(ms), err)
	}
}

// testConcurrentWriters appends from many goroutines at once: none may fail
// (SQLite must queue writers, not answer SQLITE_BUSY).
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, each = 8, 25
	convs := []store.Conversation{create(t, s, store.Conversation{}), create(t, s, store.Conversation{})}
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m := store.Message{ConversationID: convs[w%2].ID, Role: store.RoleCustomer, Text: fmt.Sprintf("w%d-%d", w, i)}
				if _, _, err := s.AppendMessage(t.Context(), m); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent AppendMessage: %v", err)
	}
	total := 0
	for _, c := range convs {
		ms, err := s.Messages(t.Context(), c.ID)
		checkErr(t, "Messages", err, nil)
		total += len(ms)
	}
	if total != writers*each {
		t.Errorf("stored %d messages, want %d", total, writers*each)
	}
}

func checkMessages(t *testing.T, s store.Store, id store.ConversationID, want []store.Message) {
	t.Helper()
	got, err := s.Messages(t.Context(), id)
	checkErr(t, "Messages", err, nil)
	if len(got) != len(want) {
		t.Fatalf("Messages = %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameMessage(got[i], want[i]) {
			t.Errorf("Messages[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func sameMessage(a, b store.Message) bool {
	return a.ID == b.ID && a.ConversationID == b.ConversationID && a.Role == b.Role && a.Text == b.Text &&
		a.Unresolved == b.Unresolved && a.Gap == b.Gap && a.IdempotencyKey == b.IdempotencyKey && a.Agent == b.Agent &&
		a.CreatedAt.Equal(b.CreatedAt)
}
