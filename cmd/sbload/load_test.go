package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"switchboard/gateway"
)

// TestLoadTimesEveryReplyOfARealGateway runs a small load on a gateway with
// the shipped config: every conversation opens and is held, every message
// sent gets its AI reply timed, and the idle reading sees the streams.
func TestLoadTimesEveryReplyOfARealGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gateway and runs for seconds")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := gateway.New(context.Background(), gateway.Options{
		ConfigPath: "../../configs/switchboard.yaml", HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: t.TempDir(),
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	// The shipped limits allow this: 10 conversations from one address,
	// and at most 2 messages a second (burst 10) in each.
	const n = 10
	s, err := load(context.Background(), options{
		url: "http://" + g.HTTPAddr(), conversations: n, duration: time.Second,
		interval: 500 * time.Millisecond, ramp: 100, targets: Targets{Conversations: n},
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.ErrorCount > 0 {
		t.Errorf("errors: %s", formatErrors(s.Errors))
	}
	if s.Opened != n || s.Held != n || s.Idle.Conversations != n {
		t.Errorf("opened %d, held %d, idle %d; want %d each", s.Opened, s.Held, s.Idle.Conversations, n)
	}
	if s.Sent < n || s.Answered != s.Sent || s.RoundTrip.Samples != int(s.Sent) {
		t.Errorf("sent %d, answered %d, timed %d; want every one of at least %d answered and timed", s.Sent, s.Answered, s.RoundTrip.Samples, n)
	}
	if s.Idle.GoroutinesPer < 1 {
		t.Errorf("the gateway grew by %.1f goroutines per open stream; the idle reading missed the streams", s.Idle.GoroutinesPer)
	}
}
