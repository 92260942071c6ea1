// Package storetest is the conformance suite every store.Store
// implementation passes. It speaks only through the store.Store interface, so
// SQLite and PostgreSQL are held to the same behaviour.
package storetest

import (
	"errors"
	"testing"
	"time"

	"switchboard/store"
)

// opener returns a new, empty store for one test and arranges for it to be
// closed when the test ends (t.Cleanup).
type opener func(t *testing.T) store.Store

// Run runs the whole suite; each subtest opens its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	suites := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Conversations", testConversations},
		{"Threads", testThreads},
		{"Messages", testMessages},
		{"Handoffs", testHandoffs},
		{"Transitions", testTransitions},
		{"ConcurrentClaim", testConcurrentClaim},
		{"Locks", testLocks},
		{"Outbox", testOutbox},
		{"HandoffsSince", testHandoffsSince},
		{"Unanswered", testUnanswered},
		{"Timestamps", testTimestamps},
		{"LiveCalls", testLiveCalls},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) { s.run(t, open) })
	}
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// t0 is a fixed instant for the tests that pass times in, well before now so a
// test can tell a given time from one the store stamped.
var t0 = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

// create stores c, on the web channel unless c names one.
func create(t *testing.T, s store.Store, c store.Conversation) store.Conversation {
	t.Helper()
	if c.Channel == "" {
		c.Channel = store.ChannelWeb
	}
	got, err := s.CreateConversation(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateConversation(%+v): %v", c, err)
	}
	return got
}

func get(t *testing.T, s store.Store, id store.ConversationID) store.Conversation {
	t.Helper()
	c, err := s.Conversation(t.Context(), id)
	if err != nil {
		t.Fatalf("Conversation(%s): %v", id, err)
	}
	return c
}

func handoffs(t *testing.T, s store.Store, id store.ConversationID) []store.Handoff {
	t.Helper()
	hs, err := s.Handoffs(t.Context(), id)
	if err != nil {
		t.Fatalf("Handoffs(%s): %v", id, err)
	}
	return hs
}

// pending returns a new conversation waiting for an agent.
func pending(t *testing.T, s store.Store) store.Conversation {
	t.Helper()
	c := create(t, s, store.Conversation{Channel: store.ChannelWeb, Customer: "visitor-1"})
	if _, err := s.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Reason: "customer_request"}); err != nil {
		t.Fatalf("RequestHandoff(%s): %v", c.ID, err)
	}
	return get(t, s, c.ID)
}

// checkErr fails unless err matches want (nil meaning no error).
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// checkStored fails unless got is in stored form: UTC, whole microseconds.
func checkStored(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v (%s), want a set UTC time in whole microseconds", what, got, got.Location())
	}
}

// recent fails unless got was stamped by the store during this test.
func recent(t *testing.T, what string, got, before time.Time) {
	t.Helper()
	checkStored(t, what, got)
	if got.Before(before.Truncate(time.Microsecond)) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("%s = %v, want the time of the call (after %v)", what, got, before)
	}
}
