package delivery_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"switchboard/config"
	"switchboard/delivery"
	"switchboard/events"
	"switchboard/store"
	"switchboard/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// cfg is the tuning the SQLite tests start from; they run in a synctest
// bubble, so its minutes take no wall time.
func cfg() config.Delivery {
	return config.Delivery{Workers: 4, Batch: 16, Lease: 30 * time.Second, PollInterval: 100 * time.Millisecond,
		MinBackoff: time.Second, MaxBackoff: 8 * time.Second, MaxAge: time.Hour}
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// rig is one instance: a store, its bus and a running worker.
type rig struct {
	st   store.Store
	bus  *events.InProcess
	w    *delivery.Worker
	reg  *prometheus.Registry
	stop func() // ends Run and waits for it; the test's end does too
}

// start runs a worker on st until stop or the test's end; Run must return
// nil then.
func start(t *testing.T, st store.Store, c config.Delivery) *rig {
	t.Helper()
	r := &rig{st: st, bus: events.NewInProcess("test"), reg: prometheus.NewRegistry()}
	r.w = delivery.New(st, r.bus, c, r.reg, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.w.Run(ctx) }()
	r.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v, want nil once its context ended", err)
		}
		r.bus.Close()
	})
	t.Cleanup(r.stop)
	return r
}

// enqueue puts an item for a new conversation into the outbox through
// delivery.Enqueue, as a channel would.
func (r *rig) enqueue(t *testing.T, dest string) store.OutboxItem {
	t.Helper()
	ch := store.Channel(delivery.Kind(dest))
	if !ch.Valid() {
		ch = store.ChannelSMS // a destination kind no channel is named for ("fax")
	}
	c, err := r.st.CreateConversation(t.Context(), store.Conversation{Channel: ch, Customer: "+15550100"})
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	it, err := delivery.Enqueue(t.Context(), r.st, r.bus, store.OutboxItem{ConversationID: c.ID, Destination: dest,
		Payload: []byte(`{"body":"hello"}`), IdempotencyKey: "reply-" + string(c.ID)})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return it
}

func (r *rig) item(t *testing.T, id int64) store.OutboxItem {
	t.Helper()
	it, err := r.st.OutboxItem(t.Context(), id)
	if err != nil {
		t.Fatalf("OutboxItem(%d): %v", id, err)
	}
	return it
}

// metric is the value of a counter or gauge in the rig's registry, the
// series with the given label pairs ("channel", "sms", ...); 0 when absent.
func (r *rig) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	fams, err := r.reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func (r *rig) deliveries(t *testing.T, channel, result string) int {
	t.Helper()
	return int(r.metric(t, "switchboard_deliveries_total", "channel", channel, "result", result))
}

// sender is a fake channel service: it answers each call with the next of
// its errors (nil once they run out) and records when each item came.
type sender struct {
	mu     sync.Mutex
	errs   []error
	calls  []time.Time
	counts map[int64]int
	delay  time.Duration
}

func (s *sender) Send(ctx context.Context, it store.OutboxItem) error {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, time.Now())
	if s.counts == nil {
		s.counts = map[int64]int{}
	}
	s.counts[it.ID]++
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	if len(s.errs) > 1 {
		s.errs = s.errs[1:]
	}
	return err
}

// failing returns a sender that fails n times with err, then succeeds; n < 0
// fails forever.
func failing(n int, err error) *sender {
	if n < 0 {
		return &sender{errs: []error{err}}
	}
	errs := make([]error, n+1)
	for i := range n {
		errs[i] = err
	}
	return &sender{errs: errs}
}

func (s *sender) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls...)
}

// sent is how many distinct items were sent.
func (s *sender) sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counts)
}

func (s *sender) sends(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[id]
}

// wait receives the next event of kind from sub, failing the test when
// none comes within d (fake time inside a bubble).
func wait(t *testing.T, sub *events.Subscription, kind events.Kind, d time.Duration) events.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-sub.C():
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", kind, d)
			return events.Event{}
		}
	}
}

var errUnavailable = errors.New("503 service unavailable")

// newBus is an instance's bus, closed when the test ends.
func newBus(tb testing.TB) *events.InProcess {
	bus := events.NewInProcess("test")
	tb.Cleanup(func() { bus.Close() })
	return bus
}
