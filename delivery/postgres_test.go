package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/delivery"
	"switchboard/store"
	"switchboard/store/postgres"
	"switchboard/store/postgres/pgtest"
)

// pgCfg is the shipped tuning, with a lease the tests can wait out.
func pgCfg() config.Delivery {
	return config.Delivery{Workers: 8, Batch: 64, Lease: 2 * time.Second, PollInterval: 50 * time.Millisecond,
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, MaxAge: 24 * time.Hour}
}

// fill enqueues n items for "sms", due at once, from four goroutines.
func fill(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				it := store.OutboxItem{Destination: "sms:+1555" + fmt.Sprint(i), Payload: []byte("hi"), IdempotencyKey: fmt.Sprint("k", i)}
				if _, _, err := st.Enqueue(context.Background(), it); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatalf("Enqueue: %v", err)
	}
}

// drained polls until the outbox is empty, failing after d.
func drained(tb testing.TB, st store.Store, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		s, err := st.OutboxStats(context.Background(), time.Now())
		if err != nil {
			tb.Fatalf("OutboxStats: %v", err)
		}
		if s.Depth == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d items still pending after %s", s.Depth, d)
		}
		time.Sleep(10 * time.Millisecond) // polling the outcome, with a deadline
	}
}

// TestTwoInstancesDeliverEachOnce: two instances (two pools, two workers)
// drain one PostgreSQL outbox; every item is sent exactly once, and both
// instances take part.
func TestTwoInstancesDeliverEachOnce(t *testing.T) {
	const n = 500
	dsn := pgDSN(t)
	a, b := openPG(t, dsn), openPG(t, dsn)
	fill(t, a, n)
	s := &sender{delay: time.Millisecond} // a service that takes a moment, so both instances get work
	ra, rb := start(t, a, pgCfg()), start(t, b, pgCfg())
	ra.w.Register("sms", s)
	rb.w.Register("sms", s)
	drained(t, a, 30*time.Second)
	ra.stop()
	rb.stop()

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.counts) != n {
		t.Errorf("%d distinct items sent, want %d", len(s.counts), n)
	}
	for id, c := range s.counts {
		if c != 1 {
			t.Errorf("item %d sent %d times, want once", id, c)
		}
	}
	da, db := ra.deliveries(t, "sms", "delivered"), rb.deliveries(t, "sms", "delivered")
	if da+db != n || da == 0 || db == 0 {
		t.Errorf("instances delivered %d and %d, want %d between them, some each", da, db, n)
	}
}

// TestDeadInstanceLeaseTakenOver: an instance leased items and died; the
// other sends them once the lease has run out, not before, and once each.
func TestDeadInstanceLeaseTakenOver(t *testing.T) {
	const n = 20
	dsn := pgDSN(t)
	dead, live := openPG(t, dsn), openPG(t, dsn)
	fill(t, dead, n)
	leased, err := dead.Due(t.Context(), time.Now(), n, time.Second)
	if err != nil || len(leased) != n {
		t.Fatalf("Due = %d items, %v; want all %d leased", len(leased), err, n)
	}
	until := leased[0].NextAttemptAt

	var mu sync.Mutex
	sent := map[int64][]time.Time{}
	r := start(t, live, pgCfg())
	r.w.Register("sms", delivery.SenderFunc(func(_ context.Context, it store.OutboxItem) error {
		mu.Lock()
		defer mu.Unlock()
		sent[it.ID] = append(sent[it.ID], time.Now())
		return nil
	}))
	drained(t, live, 10*time.Second)

	mu.Lock()
	defer mu.Unlock()
	for _, it := range leased {
		if at := sent[it.ID]; len(at) != 1 || at[0].Before(until) {
			t.Errorf("item %d sent at %v, want once, after the dead lease ran out at %v", it.ID, at, until)
		}
	}
}

// BenchmarkOutboxTwoWorkers: two instances on one PostgreSQL outbox, the
// shipped tuning and a sender that takes no time: how many items a second
// they deliver between them (target: 2,000). Run it with a fixed count, e.g.
// -benchtime=5000x: each op is one item.
func BenchmarkOutboxTwoWorkers(b *testing.B) {
	dsn := pgDSN(b)
	a, c := openPG(b, dsn), openPG(b, dsn)
	fill(b, a, b.N)
	cfg := pgCfg()
	cfg.Lease, cfg.PollInterval = 30*time.Second, time.Second
	s := &sender{}
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() }) // before the stores close
	for _, st := range []store.Store{a, c} {
		w := delivery.New(st, newBus(b), cfg, nil, nil, nil)
		w.Register("sms", s)
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				b.Errorf("Run: %v", err)
			}
		})
	}
	// Poll the sender, not the database the workers use, then the store
	// for the last writes.
	for deadline := time.Now().Add(5 * time.Minute); s.sent() < b.N; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d items sent after 5 minutes", s.sent(), b.N)
		}
	}
	drained(b, a, time.Minute)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	if n := s.sent(); n != b.N {
		b.Errorf("%d items sent, want %d", n, b.N)
	}
}

var (
	pgDSN  = pgtest.SchemaDSN
	pgExec = pgtest.Exec
)

// openPG opens an instance's store: its own connection pool.
func openPG(tb testing.TB, dsn string) store.Store {
	tb.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
