// Package delivery owns the outbox worker: it leases the items that are due
// from the store, sends each through the Sender its channel registered, and
// records what happened: delivered, failed and tried again later with
// backoff, or given up, which the item's conversation then shows as a system
// message so the agent sees the reply never arrived. It publishes each
// outcome on the event bus and wakes up when an item is enqueued.
//
// It must not know any channel's protocol: senders do.
//
// Several instances may drain one PostgreSQL outbox. Due leases each item to
// one worker at a time (FOR UPDATE SKIP LOCKED) for config delivery.lease,
// and a worker uses a lease only while it lasts: the last quarter of it is
// kept for recording the outcome, Send's context ends before that, and an
// item that waited in the worker's queue until less than half its lease was
// left is not sent at all but left to come due again. So no other instance
// sends an item while a worker still holds it, as long as the instances'
// clocks agree to well within a quarter lease. An instance that dies lets
// its leases run out: another takes the items over once the lease has
// passed. An item cut short by shutdown is left the same way.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/config"
	"switchboard/events"
	"switchboard/store"
)

// Worker drains the outbox. Register the senders, then Run it.
type Worker struct {
	st     store.Store
	bus    events.Bus
	cfg    config.Delivery
	m      *metrics
	log    *slog.Logger
	now    func() time.Time
	jitter func(n int64) int64 // a random number in [0, n)

	mu      sync.RWMutex
	senders map[string]Sender
}

// New returns a worker on st's outbox with the tuning in cfg. Its metrics
// are registered with reg (nil: not registered), and now is its clock (nil:
// time.Now).
func New(st store.Store, bus events.Bus, cfg config.Delivery, reg prometheus.Registerer, log *slog.Logger, now func() time.Time) *Worker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		st: st, bus: bus, cfg: cfg, m: newMetrics(reg), log: log, now: now,
		jitter: rand.Int64N, senders: map[string]Sender{},
	}
}

// Register makes s the sender of the destinations of kind (see Kind),
// replacing any sender registered before. It may be called while the worker
// runs: items of a kind with no sender are tried again with backoff
// meanwhile, and given up at max_age. An empty kind or a nil sender panics.
func (w *Worker) Register(kind string, s Sender) {
	if kind == "" || s == nil {
		panic("delivery: Register needs a kind and a sender")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.senders[kind] = s
}

func (w *Worker) sender(kind string) Sender {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.senders[kind]
}

// Run delivers until ctx ends, then waits for the sends under way to stop
// and returns nil. One goroutine runs the loop: it leases up to cfg.Batch
// items (see leaseSize) when those it leased before are all handed out, and
// hands each to a goroutine of its own that sends it, at most cfg.Workers at
// once. It polls
// every cfg.PollInterval, at once when an Outbox event says an item was
// enqueued, and again as soon as it can after a full batch, since more may
// be due. One more goroutine marks the sent items delivered, all those
// waiting in one write, so a send's slot is free again as soon as the
// service took the item. An error is returned only for a config it cannot
// run with.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.check(); err != nil {
		return err
	}
	sub := w.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Outbox}})
	defer sub.Close()

	sent := make(chan sentItem, w.cfg.Batch)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		w.record(ctx, sent)
	}()
	var wg sync.WaitGroup
	defer func() {
		wg.Wait() // the sends stop with ctx
		close(sent)
		<-recorded
	}()
	done := make(chan time.Duration, w.cfg.Workers) // how long each send took
	busy := 0
	var pace time.Duration       // recent sends' duration, a moving average; 0 until one ended
	var queue []store.OutboxItem // leased, waiting for a free sender
	tick := time.NewTimer(0)
	defer tick.Stop()
	wake := false
	for {
		for ; busy < w.cfg.Workers && len(queue) > 0; busy++ {
			it := queue[0]
			queue = queue[1:]
			wg.Go(func() { done <- w.deliver(ctx, it, sent) })
		}
		if wake && len(queue) == 0 && busy < w.cfg.Workers {
			n := w.leaseSize(w.cfg.Workers-busy, pace)
			queue = w.lease(ctx, n)
			wake = len(queue) == n // more may be due
			if len(queue) > 0 {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case d := <-done:
			busy--
			if d > 0 {
				pace += (d - pace) / 8
			}
		case <-tick.C:
			w.refresh(ctx)
			tick.Reset(w.cfg.PollInterval)
			wake = true
		case <-sub.C():
			wake = true
		case <-sub.Lagged():
			wake = true
		}
	}
}

func (w *Worker) check() error {
	c := w.cfg
	if c.Workers < 1 || c.Batch < 1 || c.Lease <= 0 || c.PollInterval <= 0 || c.MinBackoff <= 0 ||
		c.MaxBackoff < c.MinBackoff || c.MaxAge <= 0 {
		return fmt.Errorf("delivery: config %+v: workers, batch, lease, poll_interval, min_backoff and max_age "+
			"must be positive and max_backoff at least min_backoff", c)
	}
	return nil
}

// leaseSize is how many items to lease when free senders wait: at most
// cfg.Batch, and no more than the senders can start within half a lease at
// the pace of recent sends, since an item whose lease is half gone is not
// sent. Until a send has ended the pace is unknown: one item per free
// sender.
func (w *Worker) leaseSize(free int, pace time.Duration) int {
	if pace <= 0 {
		return min(free, w.cfg.Batch)
	}
	rounds := int64(w.cfg.Lease/2) / int64(pace) // waves of cfg.Workers sends
	return int(min(int64(w.cfg.Batch), int64(free)+int64(w.cfg.Workers)*rounds))
}

// lease takes up to n due items; a failure is logged and waits for the next
// poll.
func (w *Worker) lease(ctx context.Context, n int) []store.OutboxItem {
	items, err := w.st.Due(ctx, w.now(), n, w.cfg.Lease)
	if err != nil && ctx.Err() == nil {
		w.log.Error("delivery: lease due items", "error", err)
	}
	return items
}

// refresh sets the outbox gauges from the store.
func (w *Worker) refresh(ctx context.Context) {
	now := w.now()
	st, err := w.st.OutboxStats(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("delivery: outbox stats", "error", err)
		}
		return
	}
	w.m.outbox(st, now)
}

// publish sends e on the bus. Events only speed up readers, which catch up
// from the store, so a failure is logged and the delivery goes on. A bus
// already closed is the gateway stopping.
func (w *Worker) publish(ctx context.Context, e events.Event) {
	err := w.bus.Publish(ctx, e)
	if err == nil {
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, events.ErrClosed) {
		level = slog.LevelDebug
	}
	w.log.Log(ctx, level, "delivery: publish", "kind", e.Kind, "outbox_id", e.OutboxID,
		"conversation_id", e.ConversationID, "error", err)
}
