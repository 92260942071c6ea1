package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/store"
)

func enqueue(t *testing.T, s store.Store, it store.OutboxItem) store.OutboxItem {
	t.Helper()
	got, created, err := s.Enqueue(t.Context(), it)
	if err != nil || !created {
		t.Fatalf("Enqueue(%s) = created %v, %v; want created", it.IdempotencyKey, created, err)
	}
	return got
}

// due calls Due and returns the IDs it leased.
func due(t *testing.T, s store.Store, now time.Time, limit int) []int64 {
	t.Helper()
	items, err := s.Due(t.Context(), now, limit, time.Minute)
	checkErr(t, "Due", err, nil)
	out := make([]int64, len(items))
	for i, it := range items {
		if want := now.Add(time.Minute); !it.NextAttemptAt.Equal(want) {
			t.Errorf("leased item %d NextAttemptAt = %v, want now+lease %v", it.ID, it.NextAttemptAt, want)
		}
		out[i] = it.ID
	}
	return out
}

func checkIDs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testOutbox(t *testing.T, open opener) {
	t.Run("Enqueue", func(t *testing.T) { testEnqueue(t, open(t)) })
	t.Run("Rejects", func(t *testing.T) {
		s := open(t)
		_, _, err := s.Enqueue(t.Context(), store.OutboxItem{Destination: "sms"})
		checkErr(t, "Enqueue without key", err, store.ErrInvalid)
		_, _, err = s.Enqueue(t.Context(), store.OutboxItem{ConversationID: "nope", IdempotencyKey: "k"})
		checkErr(t, "Enqueue for unknown conversation", err, store.ErrNotFound)
		for _, tc := range []struct {
			limit int
			lease time.Duration
		}{{0, time.Minute}, {-1, time.Minute}, {1, 0}, {1, -time.Second}} {
			_, err := s.Due(t.Context(), t0, tc.limit, tc.lease)
			checkErr(t, fmt.Sprintf("Due(limit %d, lease %s)", tc.limit, tc.lease), err, store.ErrInvalid)
		}
		checkErr(t, "Delivered(unknown)", s.Delivered(t.Context(), 424242, t0), store.ErrNotFound)
		checkErr(t, "Failed(unknown)", s.Failed(t.Context(), 424242, "x", t0), store.ErrNotFound)
		checkErr(t, "GiveUp(unknown)", s.GiveUp(t.Context(), 424242, "x", t0), store.ErrNotFound)
		_, err = s.OutboxItem(t.Context(), 424242)
		checkErr(t, "OutboxItem(unknown)", err, store.ErrNotFound)
	})
	t.Run("DueLeases", func(t *testing.T) {
		s := open(t)
		a := enqueue(t, s, store.OutboxItem{IdempotencyKey: "a", NextAttemptAt: t0})
		b := enqueue(t, s, store.OutboxItem{IdempotencyKey: "b", NextAttemptAt: t0.Add(time.Minute)})
		enqueue(t, s, store.OutboxItem{IdempotencyKey: "c", NextAttemptAt: t0.Add(10 * time.Minute)})
		checkIDs(t, "Due before anything is due", due(t, s, t0.Add(-time.Second), 10))
		checkIDs(t, "Due at t0+5m", due(t, s, t0.Add(5*time.Minute), 10), a.ID, b.ID)
		checkIDs(t, "Due again while leased", due(t, s, t0.Add(5*time.Minute), 10))
		checkIDs(t, "Due once the lease ran out", due(t, s, t0.Add(6*time.Minute), 10), a.ID, b.ID)
	})
	t.Run("DueOldestFirst", func(t *testing.T) {
		s := open(t)
		x := enqueue(t, s, store.OutboxItem{IdempotencyKey: "x", NextAttemptAt: t0.Add(2 * time.Minute)})
		y := enqueue(t, s, store.OutboxItem{IdempotencyKey: "y", NextAttemptAt: t0.Add(time.Minute)})
		z := enqueue(t, s, store.OutboxItem{IdempotencyKey: "z", NextAttemptAt: t0})
		now := t0.Add(5 * time.Minute)
		for _, want := range []int64{z.ID, y.ID, x.ID} {
			checkIDs(t, "Due with limit 1", due(t, s, now, 1), want)
		}
		checkIDs(t, "Due when all are leased", due(t, s, now, 1))
	})
	t.Run("FailedReschedules", func(t *testing.T) { testFailed(t, open(t)) })
	t.Run("DeliveredNeverReturns", func(t *testing.T) { testDelivered(t, open(t)) })
	t.Run("ConcurrentDue", func(t *testing.T) { testConcurrentDue(t, open(t)) })
	t.Run("DeliveredAll", func(t *testing.T) { testDeliveredAll(t, open(t)) })
	t.Run("GiveUpIsFinal", func(t *testing.T) { testGiveUp(t, open(t)) })
	t.Run("Stats", func(t *testing.T) { testOutboxStats(t, open(t)) })
}

func testEnqueue(t *testing.T, s store.Store) {
	c := create(t, s, store.Conversation{})
	before := time.Now()
	in := store.OutboxItem{ConversationID: c.ID, Destination: "twilio:+15550100", Payload: []byte(`{"body":"hi"}`), IdempotencyKey: "reply-1"}
	it := enqueue(t, s, in)
	recent(t, "CreatedAt", it.CreatedAt, before)
	if it.ID == 0 || it.ConversationID != c.ID || it.Destination != in.Destination || !bytes.Equal(it.Payload, in.Payload) ||
		it.Attempts != 0 || !it.NextAttemptAt.Equal(it.CreatedAt) || it.DeliveredAt != nil || it.LastError != "" {
		t.Errorf("Enqueue = %+v, want the input, due at once", it)
	}
	again, created, err := s.Enqueue(t.Context(), store.OutboxItem{Destination: "other", Payload: []byte("other"), IdempotencyKey: "reply-1"})
	if err != nil || created || !sameItem(again, it) {
		t.Errorf("Enqueue with the same key = %+v, created %v, %v; want the stored %+v", again, created, err, it)
	}
	loose := enqueue(t, s, store.OutboxItem{Destination: "slack", IdempotencyKey: "no-conversation"})
	if loose.ConversationID != "" || len(loose.Payload) != 0 {
		t.Errorf("item without conversation or payload = %+v", loose)
	}
	items, err := s.Due(t.Context(), time.Now().Add(time.Second), 10, time.Minute)
	checkErr(t, "Due", err, nil)
	if len(items) != 2 || !bytes.Equal(items[0].Payload, in.Payload) || items[0].ID != it.ID || items[1].ID != loose.ID {
		t.Errorf("Due = %+v, want both items, in ID order", items)
	}
}

func testFailed(t *testing.T, s store.Store) {
	a := enqueue(t, s, store.OutboxItem{IdempotencyKey: "a", NextAttemptAt: t0})
	checkIDs(t, "Due", due(t, s, t0, 10), a.ID)
	for attempt := 1; attempt <= 2; attempt++ {
		next := t0.Add(time.Duration(attempt) * time.Hour)
		checkErr(t, "Failed", s.Failed(t.Context(), a.ID, fmt.Sprintf("503 #%d", attempt), next), nil)
		checkIDs(t, "Due before the retry time", due(t, s, next.Add(-time.Second), 10))
		items, err := s.Due(t.Context(), next, 10, time.Minute)
		checkErr(t, "Due at the retry time", err, nil)
		if len(items) != 1 || items[0].Attempts != attempt || items[0].LastError != fmt.Sprintf("503 #%d", attempt) {
			t.Errorf("Due after failure %d = %+v, want the item with %d attempts and its error", attempt, items, attempt)
		}
	}
}

func testDelivered(t *testing.T, s store.Store) {
	a := enqueue(t, s, store.OutboxItem{IdempotencyKey: "a", NextAttemptAt: t0})
	b := enqueue(t, s, store.OutboxItem{IdempotencyKey: "b", NextAttemptAt: t0})
	checkIDs(t, "Due", due(t, s, t0, 10), a.ID, b.ID)
	at := t0.Add(time.Second)
	checkErr(t, "Delivered", s.Delivered(t.Context(), a.ID, at), nil)
	checkErr(t, "Delivered again", s.Delivered(t.Context(), a.ID, at.Add(time.Hour)), nil)
	checkErr(t, "Failed after delivery", s.Failed(t.Context(), a.ID, "late", t0), nil)
	checkIDs(t, "Due long after", due(t, s, t0.Add(24*time.Hour), 10), b.ID)
	stored, _, err := s.Enqueue(t.Context(), store.OutboxItem{IdempotencyKey: "a"})
	checkErr(t, "Enqueue (read back)", err, nil)
	if stored.DeliveredAt == nil || !stored.DeliveredAt.Equal(at) {
		t.Errorf("DeliveredAt = %v, want the first delivery %v", stored.DeliveredAt, at)
	}
}

// testConcurrentDue has four workers drain the outbox at once: every item is
// handed out exactly once.
func testConcurrentDue(t *testing.T, s store.Store) {
	const items, workers = 60, 4
	for i := range items {
		enqueue(t, s, store.OutboxItem{IdempotencyKey: fmt.Sprintf("k%d", i), NextAttemptAt: t0})
	}
	got := make([][]store.OutboxItem, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			for {
				batch, err := s.Due(t.Context(), t0, 7, time.Hour)
				if err != nil || len(batch) == 0 {
					errs[w] = err
					return
				}
				got[w] = append(got[w], batch...)
			}
		})
	}
	close(start)
	wg.Wait()
	seen := map[int64]int{}
	for w := range workers {
		checkErr(t, "concurrent Due", errs[w], nil)
		for _, it := range got[w] {
			if prev, dup := seen[it.ID]; dup {
				t.Errorf("item %d leased by workers %d and %d", it.ID, prev, w)
			}
			seen[it.ID] = w
		}
	}
	if len(seen) != items {
		t.Errorf("workers leased %d distinct items, want all %d", len(seen), items)
	}
}

// testDeliveredAll marks several items delivered in one call, repeats and
// items delivered before included; an unknown id is reported, and the known
// ones are marked all the same.
func testDeliveredAll(t *testing.T, s store.Store) {
	var ids []int64
	for _, k := range []string{"a", "b", "c", "d"} {
		ids = append(ids, enqueue(t, s, store.OutboxItem{IdempotencyKey: k, NextAttemptAt: t0}).ID)
	}
	first, at := t0.Add(time.Second), t0.Add(time.Minute)
	checkErr(t, "Delivered", s.Delivered(t.Context(), ids[0], first), nil)
	checkErr(t, "DeliveredAll(none)", s.DeliveredAll(t.Context(), nil, at), nil)
	checkErr(t, "DeliveredAll", s.DeliveredAll(t.Context(), []int64{ids[1], ids[0], ids[1]}, at), nil)
	checkErr(t, "DeliveredAll with an unknown id", s.DeliveredAll(t.Context(), []int64{ids[2], 424242}, at), store.ErrNotFound)
	checkIDs(t, "Due after", due(t, s, t0.Add(time.Hour), 10), ids[3])
	for i, want := range []time.Time{first, at, at} {
		if got := item(t, s, ids[i]).DeliveredAt; got == nil || !got.Equal(want) {
			t.Errorf("item %d DeliveredAt = %v, want %v", i, got, want)
		}
	}
}

// testGiveUp gives up on an item: it is recorded with the reason, never comes
// due again, and the first record stands; a delivered item cannot be given up.
func testGiveUp(t *testing.T, s store.Store) {
	a := enqueue(t, s, store.OutboxItem{IdempotencyKey: "a", NextAttemptAt: t0})
	b := enqueue(t, s, store.OutboxItem{IdempotencyKey: "b", NextAttemptAt: t0})
	checkIDs(t, "Due", due(t, s, t0, 10), a.ID, b.ID)
	checkErr(t, "Failed", s.Failed(t.Context(), a.ID, "503", t0), nil)
	at := t0.Add(time.Second)
	checkErr(t, "GiveUp", s.GiveUp(t.Context(), a.ID, "400 invalid number", at), nil)
	checkErr(t, "GiveUp again", s.GiveUp(t.Context(), a.ID, "later", at.Add(time.Hour)), nil)
	got := item(t, s, a.ID)
	if got.FailedAt == nil || !got.FailedAt.Equal(at) || got.LastError != "400 invalid number" || got.Attempts != 2 || got.DeliveredAt != nil {
		t.Errorf("given-up item = %+v, want FailedAt %v, the first reason and 2 attempts", got, at)
	}
	checkIDs(t, "Due long after giving up", due(t, s, t0.Add(24*time.Hour), 10), b.ID)

	checkErr(t, "Delivered", s.Delivered(t.Context(), b.ID, at), nil)
	checkErr(t, "GiveUp after delivery", s.GiveUp(t.Context(), b.ID, "late", at), store.ErrWrongState)
	if got := item(t, s, b.ID); got.FailedAt != nil || got.LastError != "" || got.Attempts != 0 {
		t.Errorf("delivered item after GiveUp = %+v, want it untouched", got)
	}
}

// testOutboxStats counts pending items only: delivered and given-up ones
// drop out, and leased ones are pending but not due.
func testOutboxStats(t *testing.T, s store.Store) {
	stats := func(now time.Time) store.OutboxStats {
		t.Helper()
		st, err := s.OutboxStats(t.Context(), now)
		checkErr(t, "OutboxStats", err, nil)
		return st
	}
	if st := stats(t0); st.Depth != 0 || st.Due != 0 || !st.Oldest.IsZero() {
		t.Errorf("OutboxStats of an empty outbox = %+v, want zero", st)
	}
	delivered := enqueue(t, s, store.OutboxItem{IdempotencyKey: "delivered", CreatedAt: t0.Add(-2 * time.Hour)})
	givenUp := enqueue(t, s, store.OutboxItem{IdempotencyKey: "given-up", CreatedAt: t0.Add(-time.Hour)})
	a := enqueue(t, s, store.OutboxItem{IdempotencyKey: "a", CreatedAt: t0, NextAttemptAt: t0})
	enqueue(t, s, store.OutboxItem{IdempotencyKey: "b", CreatedAt: t0.Add(time.Second), NextAttemptAt: t0.Add(10 * time.Minute)})
	checkErr(t, "Delivered", s.Delivered(t.Context(), delivered.ID, t0), nil)
	checkErr(t, "GiveUp", s.GiveUp(t.Context(), givenUp.ID, "too old", t0), nil)

	for _, tc := range []struct {
		now       time.Time
		depth, ok int
	}{{t0.Add(-time.Second), 2, 0}, {t0, 2, 1}, {t0.Add(10 * time.Minute), 2, 2}} {
		if st := stats(tc.now); st.Depth != tc.depth || st.Due != tc.ok || !st.Oldest.Equal(t0) {
			t.Errorf("OutboxStats(%v) = %+v, want depth %d, %d due, oldest %v", tc.now, st, tc.depth, tc.ok, t0)
		}
	}
	checkIDs(t, "Due", due(t, s, t0, 10), a.ID)
	if st := stats(t0); st.Depth != 2 || st.Due != 0 {
		t.Errorf("OutboxStats while a is leased = %+v, want both pending, none due", st)
	}
}

func item(t *testing.T, s store.Store, id int64) store.OutboxItem {
	t.Helper()
	it, err := s.OutboxItem(t.Context(), id)
	checkErr(t, "OutboxItem", err, nil)
	return it
}

func sameItem(a, b store.OutboxItem) bool {
	return a.ID == b.ID && a.ConversationID == b.ConversationID && a.Destination == b.Destination &&
		bytes.Equal(a.Payload, b.Payload) && a.IdempotencyKey == b.IdempotencyKey && a.Attempts == b.Attempts &&
		a.NextAttemptAt.Equal(b.NextAttemptAt) && sameTimePtr(a.DeliveredAt, b.DeliveredAt) && sameTimePtr(a.FailedAt, b.FailedAt) &&
		a.LastError == b.LastError && a.CreatedAt.Equal(b.CreatedAt)
}
