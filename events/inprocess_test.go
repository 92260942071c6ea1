package events_test

import (
	"testing"
	"time"

	"switchboard/events"
)

// next waits for one event or fails after a generous deadline.
func next(t *testing.T, s *events.Subscription) events.Event {
	t.Helper()
	select {
	case e := <-s.C():
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return events.Event{}
	}
}

func none(t *testing.T, s *events.Subscription) {
	t.Helper()
	select {
	case e := <-s.C():
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

func TestInProcessDeliversByFilter(t *testing.T) {
	b := events.NewInProcess("a")
	defer b.Close()
	conv := b.Subscribe(events.Filter{ConversationID: "c1"})
	all := b.Subscribe(events.Filter{})
	claims := b.Subscribe(events.Filter{Kinds: []events.Kind{events.Claimed}})
	defer conv.Close()
	defer all.Close()
	defer claims.Close()

	for _, e := range []events.Event{
		{Kind: events.Message, ConversationID: "c1", MessageID: 7},
		{Kind: events.Message, ConversationID: "c2", MessageID: 8},
		{Kind: events.Claimed, ConversationID: "c2", Agent: "sam"},
	} {
		if err := b.Publish(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if e := next(t, conv); e.MessageID != 7 || e.Instance != "a" {
		t.Errorf("conversation stream got %+v, want message 7 from instance a", e)
	}
	none(t, conv)
	for _, want := range []int64{7, 8} {
		if e := next(t, all); e.MessageID != want {
			t.Errorf("all got %+v, want message %d", e, want)
		}
	}
	if e := next(t, all); e.Kind != events.Claimed {
		t.Errorf("all got %+v, want the claim", e)
	}
	if e := next(t, claims); e.Kind != events.Claimed || e.Agent != "sam" {
		t.Errorf("claims got %+v", e)
	}
	none(t, claims)
}

// A subscriber that does not read never holds the others up: its events
// are dropped and it is told it lagged, once.
func TestSlowSubscriberLagsWithoutBlockingOthers(t *testing.T) {
	b := events.NewInProcess("a")
	defer b.Close()
	slow := b.Subscribe(events.Filter{ConversationID: "c1"})
	defer slow.Close()
	fast := b.Subscribe(events.Filter{ConversationID: "c1"})
	defer fast.Close()
	// Three buffers' worth, in rounds the fast reader keeps up with.
	const n = events.ConversationBuffer
	for round := range 3 {
		for i := range n {
			e := events.Event{Kind: events.Message, ConversationID: "c1", MessageID: int64(round*n + i + 1)}
			if err := b.Publish(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if e := next(t, fast); e.MessageID != int64(round*n+i+1) {
				t.Fatalf("fast subscriber got %+v out of order", e)
			}
		}
	}
	select {
	case <-fast.Lagged():
		t.Error("the fast subscriber was told it lagged")
	default:
	}
	select {
	case <-slow.Lagged():
	default:
		t.Fatal("the slow subscriber was not told it lagged")
	}
	if n := len(slow.C()); n != events.ConversationBuffer {
		t.Errorf("slow subscriber holds %d events, want its buffer (%d)", n, events.ConversationBuffer)
	}
}

// A stream of one conversation holds a few turns' events for a slow
// reader; one of every conversation (an agent's) holds many more, since
// it hears all of them.
func TestBuffersFitWhatASubscriptionHears(t *testing.T) {
	b := events.NewInProcess("a")
	defer b.Close()
	one := b.Subscribe(events.Filter{ConversationID: "c1"})
	defer one.Close()
	all := b.Subscribe(events.Filter{})
	defer all.Close()
	for i := range events.Buffer {
		if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "c1", MessageID: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(one.C()); n != events.ConversationBuffer {
		t.Errorf("the conversation's subscription holds %d events, want %d", n, events.ConversationBuffer)
	}
	select {
	case <-one.Lagged():
	default:
		t.Error("the conversation's subscription overflowed without being told it lagged")
	}
	if n := len(all.C()); n != events.Buffer {
		t.Errorf("the subscription to every conversation holds %d events, want %d", n, events.Buffer)
	}
	select {
	case <-all.Lagged():
		t.Error("the subscription to every conversation lagged within its buffer")
	default:
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	b := events.NewInProcess("a")
	s := b.Subscribe(events.Filter{})
	if b.Subscribers() != 1 {
		t.Fatalf("Subscribers = %d, want 1", b.Subscribers())
	}
	b.Close()
	select {
	case <-s.Done():
	default:
		t.Fatal("subscription still open after the bus closed")
	}
	s.Close() // again: no panic
	if err := b.Publish(t.Context(), events.Event{Kind: events.Message}); err == nil {
		t.Error("Publish on a closed bus succeeded")
	}
	if b.Subscribers() != 0 {
		t.Errorf("Subscribers = %d after close", b.Subscribers())
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "{", `{"k":""}`, `[]`, string(make([]byte, events.MaxEventBytes+1))} {
		if _, err := events.Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%.20q) succeeded", in)
		}
	}
	e := events.Event{Kind: events.Handoff, ConversationID: "c", HandoffID: 3, State: "pending_human"}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := events.Decode(b); err != nil || got != e {
		t.Errorf("round trip = %+v, %v; want %+v", got, err, e)
	}
}
