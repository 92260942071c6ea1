package delivery_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"switchboard/delivery"
	"switchboard/events"
	"switchboard/store"
)

// TestEnqueueDeliversOnceAtOnce: an enqueued item wakes the worker, goes out
// at once (not at the next poll), is marked delivered and is never sent
// again.
func TestEnqueueDeliversOnceAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		c.PollInterval = time.Minute
		r := start(t, openSQLite(t), c)
		s := &sender{}
		r.w.Register("sms", s)
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery}})
		defer sub.Close()
		synctest.Wait() // the worker has polled once and waits

		enqueued := time.Now()
		it := r.enqueue(t, "sms:+15550100")
		e := wait(t, sub, events.Delivery, time.Second)
		if e.OutboxID != it.ID || e.ConversationID != it.ConversationID {
			t.Errorf("Delivery event = %+v, want item %d of %s", e, it.ID, it.ConversationID)
		}
		if calls := s.times(); len(calls) != 1 || !calls[0].Equal(enqueued) {
			t.Errorf("sends at %v, want one at once, at %v", calls, enqueued)
		}
		time.Sleep(3 * c.PollInterval) // fake time: three more polls
		synctest.Wait()
		if n := s.sends(it.ID); n != 1 {
			t.Errorf("item sent %d times, want once", n)
		}
		got := r.item(t, it.ID)
		if got.DeliveredAt == nil || !got.DeliveredAt.Equal(enqueued) || got.FailedAt != nil || got.Attempts != 0 {
			t.Errorf("stored item = %+v, want delivered at %v", got, enqueued)
		}
		if n := r.deliveries(t, "sms", "delivered"); n != 1 {
			t.Errorf("deliveries_total{sms,delivered} = %d, want 1", n)
		}
	})
}

// TestFailingSenderBacksOffThenDelivers: each failure waits min_backoff
// doubled per attempt up to max_backoff, with equal jitter (between half and
// all of it), and the item goes out when the service recovers.
func TestFailingSenderBacksOffThenDelivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		c.MinBackoff, c.MaxBackoff = time.Second, 4*time.Second
		r := start(t, openSQLite(t), c)
		s := failing(5, errUnavailable)
		r.w.Register("sms", s)
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery}})
		defer sub.Close()

		it := r.enqueue(t, "sms:+15550100")
		wait(t, sub, events.Delivery, time.Minute)
		calls := s.times()
		if len(calls) != 6 {
			t.Fatalf("%d sends, want 5 failures and a success", len(calls))
		}
		for i, full := range []time.Duration{1, 2, 4, 4, 4} {
			full *= time.Second
			// The worker sees the item due at its next poll.
			if gap := calls[i+1].Sub(calls[i]); gap < full/2 || gap > full+c.PollInterval {
				t.Errorf("wait after failure %d = %s, want between %s and %s (+ a poll)", i+1, gap, full/2, full)
			}
		}
		got := r.item(t, it.ID)
		if got.DeliveredAt == nil || got.Attempts != 5 || got.LastError != errUnavailable.Error() {
			t.Errorf("stored item = %+v, want delivered after 5 failed attempts", got)
		}
		if retry, ok := r.deliveries(t, "sms", "retry"), r.deliveries(t, "sms", "delivered"); retry != 5 || ok != 1 {
			t.Errorf("deliveries_total retry %d, delivered %d; want 5 and 1", retry, ok)
		}
	})
}

// TestRetryAfterIsHonoured: a service that says "retry after 7s" is not
// called again sooner, though the backoff alone would have been 1s.
func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		r := start(t, openSQLite(t), c)
		s := failing(1, &delivery.RetryAfter{After: 7 * time.Second, Err: errors.New("429 too many requests")})
		r.w.Register("sms", s)
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery}})
		defer sub.Close()

		r.enqueue(t, "sms:+15550100")
		wait(t, sub, events.Delivery, time.Minute)
		calls := s.times()
		if len(calls) != 2 {
			t.Fatalf("%d sends, want 2", len(calls))
		}
		if gap := calls[1].Sub(calls[0]); gap < 7*time.Second || gap > 7*time.Second+c.PollInterval {
			t.Errorf("second send %s after the first, want 7s (+ a poll)", gap)
		}
	})
}

// TestPermanentErrorGivesUpAtOnce: a refusal that cannot change (400
// invalid number) is not retried; the item is given up, the conversation
// says "Not delivered" and both are published.
func TestPermanentErrorGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t, openSQLite(t), cfg())
		s := failing(-1, delivery.Permanent(errors.New("400 invalid number")))
		r.w.Register("sms", s)
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery, events.Message}})
		defer sub.Close()

		it := r.enqueue(t, "sms:+1555")
		at := time.Now()
		wait(t, sub, events.Delivery, time.Second)
		msg := wait(t, sub, events.Message, time.Second)
		time.Sleep(2 * cfg().MaxBackoff) // fake time: past any backoff
		synctest.Wait()

		if n := s.sends(it.ID); n != 1 {
			t.Errorf("item sent %d times, want once", n)
		}
		got := r.item(t, it.ID)
		if got.FailedAt == nil || !got.FailedAt.Equal(at) || got.DeliveredAt != nil || got.Attempts != 1 || got.LastError != "400 invalid number" {
			t.Errorf("stored item = %+v, want given up at %v after 1 attempt", got, at)
		}
		checkNotDelivered(t, r, it.ConversationID, msg, "Not delivered: refused by sms: 400 invalid number", store.StateAI)
		if n := r.deliveries(t, "sms", "given_up"); n != 1 {
			t.Errorf("deliveries_total{sms,given_up} = %d, want 1", n)
		}
	})
}

// TestMaxAgeGivesUp: an item that keeps failing is tried until it is
// max_age old, the last time at max_age, then given up; the conversation
// (waiting for an agent) shows it and the events carry its state.
func TestMaxAgeGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		c.MaxAge, c.PollInterval = 2*time.Minute, time.Second
		r := start(t, openSQLite(t), c)
		s := failing(-1, errUnavailable)
		r.w.Register("sms", s)
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery, events.Message}})
		defer sub.Close()

		it := r.enqueue(t, "sms:+15550100")
		if _, err := r.st.RequestHandoff(t.Context(), store.Handoff{ConversationID: it.ConversationID, Reason: "customer_request"}); err != nil {
			t.Fatalf("RequestHandoff: %v", err)
		}
		wait(t, sub, events.Delivery, 3*time.Minute)
		msg := wait(t, sub, events.Message, time.Second)
		time.Sleep(2 * c.MaxBackoff) // fake time: past any backoff
		synctest.Wait()

		deadline := it.CreatedAt.Add(c.MaxAge)
		calls := s.times()
		if last := calls[len(calls)-1]; last.Before(deadline) || last.After(deadline.Add(c.PollInterval)) {
			t.Errorf("last send at %v, want at max age %v (+ a poll)", last, deadline)
		}
		// Backoff from 1s to 8s over two minutes: at least 2 minutes / 8s.
		if len(calls) < 15 {
			t.Errorf("%d sends before giving up, want at least 15", len(calls))
		}
		got := r.item(t, it.ID)
		if got.FailedAt == nil || got.FailedAt.Before(deadline) || got.Attempts != len(calls) {
			t.Errorf("stored item = %+v, want given up after max age with %d attempts", got, len(calls))
		}
		checkNotDelivered(t, r, it.ConversationID, msg, "Not delivered: still failing after 2m0s: 503 service unavailable",
			store.StatePendingHuman)
	})
}

// checkNotDelivered checks that the conversation's last message is the
// system message want and that msg, its event, names it with the state.
func checkNotDelivered(t *testing.T, r *rig, id store.ConversationID, msg events.Event, want string, state store.State) {
	t.Helper()
	ms, err := r.st.Messages(t.Context(), id)
	if err != nil || len(ms) == 0 {
		t.Fatalf("Messages = %v, %v; want the not-delivered note", ms, err)
	}
	last := ms[len(ms)-1]
	if last.Role != store.RoleSystem || last.Text != want {
		t.Errorf("last message = %s %q, want system %q", last.Role, last.Text, want)
	}
	if msg.ConversationID != id || msg.MessageID != last.ID || msg.State != state {
		t.Errorf("Message event = %+v, want message %d of %s in state %s", msg, last.ID, id, state)
	}
}

// TestNoSenderRetriedUntilRegistered: an item for a channel that has not
// registered yet is tried again with backoff, and goes out once it has.
func TestNoSenderRetriedUntilRegistered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t, openSQLite(t), cfg())
		sub := r.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Delivery}})
		defer sub.Close()

		it := r.enqueue(t, "fax:+15550100")
		for r.item(t, it.ID).Attempts < 3 {
			time.Sleep(time.Second) // fake time
		}
		got := r.item(t, it.ID)
		if !strings.Contains(got.LastError, `no sender registered for channel "fax"`) || got.FailedAt != nil {
			t.Errorf("item before the channel registered = %+v, want pending with the reason", got)
		}
		s := &sender{}
		r.w.Register("fax", s)
		wait(t, sub, events.Delivery, time.Minute)
		if n := s.sends(it.ID); n != 1 || r.item(t, it.ID).DeliveredAt == nil {
			t.Errorf("after Register: sent %d times, item %+v; want delivered once", n, r.item(t, it.ID))
		}
	})
}

// TestHealthReportsStuck: an item nobody can deliver makes the outbox stuck
// once it is older than StuckAfter, and the gauges show its depth and age.
func TestHealthReportsStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		c.MaxBackoff, c.PollInterval = time.Minute, 10*time.Second
		r := start(t, openSQLite(t), c)
		if got := delivery.StuckAfter(c); got != 10*time.Minute {
			t.Fatalf("StuckAfter = %s, want 10m (max_backoff 1m, max_age 1h)", got)
		}
		r.enqueue(t, "fax:+15550100")
		h, err := r.w.Health(t.Context())
		if err != nil || h.Depth != 1 || h.Stuck {
			t.Errorf("Health of a new item = %+v, %v; want depth 1, not stuck", h, err)
		}
		time.Sleep(11 * time.Minute)
		h, err = r.w.Health(t.Context())
		if err != nil || h.Depth != 1 || h.OldestAge < 11*time.Minute || !h.Stuck {
			t.Errorf("Health 11 minutes on = %+v, %v; want stuck", h, err)
		}
		if d, age := r.metric(t, "switchboard_outbox_depth"), r.metric(t, "switchboard_outbox_oldest_age_seconds"); d != 1 || age < 600 {
			t.Errorf("gauges: depth %v, oldest age %vs; want 1 and over 600", d, age)
		}
	})
}

// TestShutdownLeavesItemToLease: a send under way when Run's context ends
// stops with it; the item is not counted as a failed attempt, and its lease
// lets it go out later.
func TestShutdownLeavesItemToLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openSQLite(t)
		c := cfg()
		bus := events.NewInProcess("test")
		defer bus.Close()
		w := delivery.New(st, bus, c, nil, nil, nil)
		w.Register("sms", &sender{delay: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error)
		go func() { ran <- w.Run(ctx) }()
		it, err := delivery.Enqueue(t.Context(), st, bus, store.OutboxItem{Destination: "sms:+1", IdempotencyKey: "k"})
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		time.Sleep(time.Second)
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		got, err := st.OutboxItem(t.Context(), it.ID)
		if err != nil || got.Attempts != 0 || got.LastError != "" || !got.NextAttemptAt.After(time.Now()) {
			t.Errorf("item after shutdown = %+v, %v; want leased, no attempt recorded", got, err)
		}
	})
}

// TestSlowSenderStaysWithinLease: two instances share an outbox and a
// service that takes a third of the lease per send. Each item is sent once,
// and every send must end a quarter lease before the item's lease does,
// leaving time to record it before another instance may take the item.
func TestSlowSenderStaysWithinLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg()
		c.Workers, c.Batch, c.PollInterval = 2, 16, time.Second
		st := openSQLite(t)
		var mu sync.Mutex
		sends := map[int64]int{}
		slow := delivery.SenderFunc(func(ctx context.Context, it store.OutboxItem) error {
			mu.Lock()
			sends[it.ID]++
			mu.Unlock()
			if dl, ok := ctx.Deadline(); !ok || dl.After(it.NextAttemptAt.Add(-c.Lease/4)) {
				t.Errorf("item %d: send deadline %v, want a quarter lease before its lease ends at %v", it.ID, dl, it.NextAttemptAt)
			}
			time.Sleep(c.Lease / 3) // fake time
			return nil
		})
		a, b := start(t, st, c), start(t, st, c)
		a.w.Register("sms", slow)
		b.w.Register("sms", slow)
		const n = 20
		for range n {
			a.enqueue(t, "sms:+15550100")
		}
		for deadline := time.Now().Add(time.Hour); ; time.Sleep(time.Second) {
			s, err := st.OutboxStats(t.Context(), time.Now())
			if err != nil || s.Depth == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d items still pending after an hour", s.Depth)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for id, k := range sends {
			if k != 1 {
				t.Errorf("item %d sent %d times, want once", id, k)
			}
		}
		if len(sends) != n {
			t.Errorf("%d items sent, want %d", len(sends), n)
		}
	})
}
