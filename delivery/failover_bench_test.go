package delivery_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/delivery"
	"switchboard/store"
)

// BenchmarkOutboxTwoWorkersOneKilled: two instances drain one PostgreSQL
// outbox, as in BenchmarkOutboxTwoWorkers, and once half the items are sent
// one of them dies: from that moment its store calls fail and its sender
// reaches nothing (a process gone does neither), and its Run is cancelled,
// so what it leased and what it sent but had not yet marked delivered stay
// as they were. The other takes its items over when their lease (2 s here)
// runs out. Each op is one item; run it with a fixed count, e.g.
// -benchtime=50000x, so the survivor is still busy when the lease ends.
//
// It reports items/s over the whole run, lost (items never sent: must be 0),
// duplicates (an item sent twice other than the case below, such as two
// instances holding it at once: must be 0), resent (items the dead instance
// had sent but not marked, sent again by the survivor after their lease: the
// at-least-once window a crash leaves, which the item's idempotency key,
// passed to the service, keeps from being shown twice) and after-kill-s,
// from the death to the last item delivered.
func BenchmarkOutboxTwoWorkersOneKilled(b *testing.B) {
	dsn := pgDSN(b)
	stA, stB := openPG(b, dsn), openPG(b, dsn)
	fill(b, stA, b.N)
	cfg := pgCfg()
	cfg.PollInterval = 100 * time.Millisecond
	log := &sendLog{sends: make(map[int64][]send, b.N)}
	dying := &killable{Store: stA}

	b.ResetTimer()
	ctxA, kill := context.WithCancel(context.Background())
	ctxB, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { kill(); stop(); wg.Wait() }) // before the stores close
	for _, in := range []struct {
		ctx  context.Context
		st   store.Store
		name string
	}{{ctxA, dying, "a"}, {ctxB, stB, "b"}} {
		w := delivery.New(in.st, newBus(b), cfg, nil, nil, nil)
		w.Register("sms", delivery.SenderFunc(func(_ context.Context, it store.OutboxItem) error {
			if in.name == "a" && dying.dead.Load() {
				return errDead
			}
			log.add(it, in.name)
			return nil
		}))
		wg.Go(func() {
			if err := w.Run(in.ctx); err != nil {
				b.Errorf("Run: %v", err)
			}
		})
	}
	// Poll the sends; the death comes within a millisecond of the halfway mark.
	for deadline := time.Now().Add(5 * time.Minute); log.distinct() < b.N/2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d items sent after 5 minutes", log.distinct(), b.N)
		}
	}
	dying.dead.Store(true)
	killedAt := time.Now()
	kill()
	for deadline := time.Now().Add(5 * time.Minute); log.distinct() < b.N; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d items sent after 5 minutes", log.distinct(), b.N)
		}
	}
	drained(b, stB, time.Minute)
	b.StopTimer()

	lost, dups, resent := log.judge(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dups), "duplicates")
	b.ReportMetric(float64(resent), "resent")
	b.ReportMetric(time.Since(killedAt).Seconds(), "after-kill-s")
	b.ReportMetric(float64(log.by("a")), "sent-by-dead")
	if lost > 0 || dups > 0 {
		b.Errorf("%d items lost, %d sent twice outside a dead instance's unmarked window", lost, dups)
	}
}

var errDead = errors.New("instance killed")

// killable is an instance's store that stops answering when the instance
// dies, so that nothing it had under way is recorded.
type killable struct {
	store.Store
	dead atomic.Bool
}

func (k *killable) Due(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	if k.dead.Load() {
		return nil, errDead
	}
	return k.Store.Due(ctx, now, limit, lease)
}

func (k *killable) DeliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	if k.dead.Load() {
		return errDead
	}
	return k.Store.DeliveredAll(ctx, ids, at)
}

func (k *killable) Failed(ctx context.Context, id int64, errText string, next time.Time) error {
	if k.dead.Load() {
		return errDead
	}
	return k.Store.Failed(ctx, id, errText, next)
}

func (k *killable) GiveUp(ctx context.Context, id int64, errText string, at time.Time) error {
	if k.dead.Load() {
		return errDead
	}
	return k.Store.GiveUp(ctx, id, errText, at)
}

func (k *killable) OutboxStats(ctx context.Context, now time.Time) (store.OutboxStats, error) {
	if k.dead.Load() {
		return store.OutboxStats{}, errDead
	}
	return k.Store.OutboxStats(ctx, now)
}

// send is one send of an item, as the service saw it.
type send struct {
	by       string
	at       time.Time
	leaseEnd time.Time // the sender's lease on the item (Due set NextAttemptAt to it)
}

// sendLog is the service both instances send to.
type sendLog struct {
	mu    sync.Mutex
	sends map[int64][]send
}

func (l *sendLog) add(it store.OutboxItem, by string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends[it.ID] = append(l.sends[it.ID], send{by: by, at: time.Now(), leaseEnd: it.NextAttemptAt})
}

func (l *sendLog) distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sends)
}

// by counts the items first sent by instance name.
func (l *sendLog) by(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ss := range l.sends {
		if ss[0].by == name {
			n++
		}
	}
	return n
}

// judge counts the items of n never sent, those sent twice where no
// instance died in between (or before the first send's lease ran out), and
// those the dead instance sent that the survivor sent again after the
// lease.
func (l *sendLog) judge(n int) (lost, dups, resent int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lost = n - len(l.sends)
	for _, ss := range l.sends {
		switch {
		case len(ss) == 1:
		case len(ss) == 2 && ss[0].by == "a" && ss[1].by == "b" && !ss[1].at.Before(ss[0].leaseEnd):
			resent++
		default:
			dups++
		}
	}
	return lost, dups, resent
}
