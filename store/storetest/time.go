package storetest

import (
	"testing"
	"time"

	"switchboard/store"
)

// testTimestamps writes instants the database could mangle (sub-microsecond,
// another zone, before 1970, far ahead) through every timestamp the store
// takes, and reads them back in UTC to the microsecond.
func testTimestamps(t *testing.T, open opener) {
	s := open(t)
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"nanoseconds in another zone", time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.FixedZone("IST", 5*3600+1800))},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.UTC)},
		{"far ahead", time.Date(2199, 12, 31, 23, 59, 59, 1000, time.FixedZone("PST", -8*3600))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.at.UTC().Truncate(time.Microsecond)
			check := func(what string, got time.Time) {
				t.Helper()
				checkStored(t, what, got)
				if !got.Equal(want) || got.Sub(tc.at).Abs() >= time.Millisecond {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			c := create(t, s, store.Conversation{CreatedAt: tc.at})
			check("conversation CreatedAt", c.CreatedAt)
			check("conversation CreatedAt read back", get(t, s, c.ID).CreatedAt)

			_, _, err := s.AppendMessage(t.Context(), store.Message{ConversationID: c.ID, Role: store.RoleCustomer, CreatedAt: tc.at})
			checkErr(t, "AppendMessage", err, nil)
			ms, err := s.Messages(t.Context(), c.ID)
			checkErr(t, "Messages", err, nil)
			check("message CreatedAt read back", ms[0].CreatedAt)

			_, err = s.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, CreatedAt: tc.at})
			checkErr(t, "RequestHandoff", err, nil)
			check("handoff CreatedAt read back", handoffs(t, s, c.ID)[0].CreatedAt)

			checkOutboxTimes(t, s, string(c.ID), tc.at, check)
		})
	}
}

func checkOutboxTimes(t *testing.T, s store.Store, key string, at time.Time, check func(string, time.Time)) {
	t.Helper()
	it := enqueue(t, s, store.OutboxItem{IdempotencyKey: key, CreatedAt: at, NextAttemptAt: at})
	items, err := s.Due(t.Context(), at, 1, time.Minute)
	checkErr(t, "Due", err, nil)
	if len(items) != 1 || items[0].ID != it.ID {
		t.Fatalf("Due(at) = %+v, want the item due exactly then", items)
	}
	check("outbox CreatedAt read back", items[0].CreatedAt)
	checkErr(t, "Failed", s.Failed(t.Context(), it.ID, "x", at), nil)
	checkErr(t, "Delivered", s.Delivered(t.Context(), it.ID, at), nil)
	stored, _, err := s.Enqueue(t.Context(), store.OutboxItem{IdempotencyKey: key})
	checkErr(t, "Enqueue (read back)", err, nil)
	check("outbox NextAttemptAt read back", stored.NextAttemptAt)
	check("outbox DeliveredAt read back", *stored.DeliveredAt)

	given := enqueue(t, s, store.OutboxItem{IdempotencyKey: key + "-given-up", CreatedAt: at})
	checkErr(t, "GiveUp", s.GiveUp(t.Context(), given.ID, "x", at), nil)
	stats, err := s.OutboxStats(t.Context(), at)
	checkErr(t, "OutboxStats", err, nil)
	check("outbox FailedAt read back", *item(t, s, given.ID).FailedAt)
	if stats.Depth != 0 {
		t.Errorf("OutboxStats = %+v after the only pending item was given up, want depth 0", stats)
	}
}
