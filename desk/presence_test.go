package desk

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/events"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two instances on one bus: an agent online on one is online on both;
// offline when their last stream closes; and an instance that died is
// forgotten after the expiry.
func TestPresenceAcrossInstances(t *testing.T) {
	bus := events.NewInProcess("")
	defer bus.Close()
	clk := &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := NewPresence(bus, "a", clk.now, log)
	b := NewPresence(bus, "b", clk.now, log)
	ctx := t.Context()
	go a.Run(ctx)
	go b.Run(ctx)
	// Run subscribes in its goroutine: wait until both listen.
	eventually(t, "both instances subscribed", func() bool { return bus.Subscribers() == 2 })

	if b.AnyOnline() {
		t.Fatal("someone online before anyone connected")
	}
	off1 := a.Connect(ctx, "sam")
	off2 := a.Connect(ctx, "sam") // a second tab
	eventually(t, "sam online on b", func() bool { return slices.Equal(b.Online(), []string{"sam"}) })
	if !slices.Equal(a.Online(), []string{"sam"}) {
		t.Errorf("a.Online = %v", a.Online())
	}
	off1()
	off1() // twice: no effect
	if !slices.Equal(a.Online(), []string{"sam"}) {
		t.Errorf("sam went offline with a tab still open: %v", a.Online())
	}
	off2()
	eventually(t, "sam offline on b", func() bool { return !b.AnyOnline() })

	// An instance that dies says nothing more: b forgets it after expiry.
	_ = a.Connect(ctx, "alex")
	eventually(t, "alex online on b", func() bool { return b.AnyOnline() })
	clk.add(expiry + time.Second)
	if b.AnyOnline() {
		t.Errorf("b still sees %v after the expiry", b.Online())
	}
	if !a.AnyOnline() {
		t.Error("a forgot its own connected agent")
	}
}
