package rules

import (
	"errors"
	"testing"
	"time"

	"switchboard/store"
)

func TestTimeIsUTCMicroseconds(t *testing.T) {
	in := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	got := Time(in)
	if got.Location() != time.UTC || got.Nanosecond() != 123456000 || !got.Equal(in.Truncate(time.Microsecond)) {
		t.Errorf("Time(%v) = %v, want the same instant in UTC, whole microseconds", in, got)
	}
}

func TestPrepareRejects(t *testing.T) {
	now := Now()
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"conversation state", func() error {
			_, err := Conversation(store.Conversation{Channel: store.ChannelWeb, State: "open"}, now)
			return err
		}},
		{"conversation channel", func() error { _, err := Conversation(store.Conversation{Channel: "webchat"}, now); return err }},
		{"conversation without channel", func() error { _, err := Conversation(store.Conversation{}, now); return err }},
		{"message role", func() error { _, err := Message(store.Message{Role: "bot"}, now); return err }},
		{"handoff status", func() error { _, err := Handoff(store.Handoff{Status: store.HandoffResolved}, now); return err }},
		{"outbox key", func() error { _, err := Outbox(store.OutboxItem{}, now); return err }},
		{"list limit", func() error { _, err := Limit(store.ListFilter{Limit: -5}); return err }},
		{"list state", func() error { _, err := States(store.ListFilter{States: []store.State{"x"}}); return err }},
		{"lease", func() error { return Lease(1, 0) }},
		{"window limit", func() error { _, err := WindowLimit(-1, 10); return err }},
	} {
		if err := tc.err(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestPrepareDefaults(t *testing.T) {
	now := Now()
	it, err := Outbox(store.OutboxItem{IdempotencyKey: "k"}, now)
	if err != nil || it.Payload == nil || !it.CreatedAt.Equal(now) || !it.NextAttemptAt.Equal(now) {
		t.Errorf("Outbox defaults = %+v, %v; want empty payload, due now", it, err)
	}
	h, err := Handoff(store.Handoff{}, now)
	if err != nil || h.Status != store.HandoffPending || !h.UpdatedAt.Equal(now) {
		t.Errorf("Handoff defaults = %+v, %v; want pending, stamped now", h, err)
	}
	if n, err := Limit(store.ListFilter{}); err != nil || n != store.DefaultListLimit {
		t.Errorf("Limit(0) = %d, %v; want %d", n, err, store.DefaultListLimit)
	}
	if h, _ := Handoff(store.Handoff{Channel: "sms"}, now); h.Channel != "" {
		t.Errorf("Handoff kept Channel %q, want it dropped: it is read from the conversation", h.Channel)
	}
	for _, tc := range []struct{ limit, want int }{{0, 7}, {1, 1}, {50, 50}} {
		if n, err := WindowLimit(tc.limit, 7); err != nil || n != tc.want {
			t.Errorf("WindowLimit(%d, 7) = %d, %v; want %d", tc.limit, n, err, tc.want)
		}
	}
}

func TestSinceRoundsUp(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	zone := time.FixedZone("CEST", 2*3600)
	for _, tc := range []struct {
		in, want time.Time
	}{
		{at, at},
		{at.In(zone), at},
		{at.Add(-time.Nanosecond), at},
		{at.Add(time.Nanosecond), at.Add(time.Microsecond)},
		{at.Add(999 * time.Nanosecond).In(zone), at.Add(time.Microsecond)},
	} {
		got := Since(tc.in)
		if got.Location() != time.UTC || !got.Equal(tc.want) {
			t.Errorf("Since(%v) = %v, want %v in UTC", tc.in, got, tc.want)
		}
	}
}
