package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// closeGrace bounds the closing handshakes at the end of a run.
const closeGrace = 10 * time.Second

// load runs the three phases, opening, idle and messages, and sums them up.
func load(ctx context.Context, o options, progress io.Writer) (*Summary, error) {
	c := newClient(o)
	before, err := readGateway(ctx, c.hc, c.base)
	if err != nil {
		return nil, err
	}
	send, stopSending := context.WithCancel(ctx)
	defer stopSending()
	wait, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	start := make(chan struct{})
	var all, opening sync.WaitGroup
	seed := uint64(time.Now().UnixNano())

	began := time.Now()
	for i := range o.conversations {
		if !sleepUntil(ctx, began.Add(time.Duration(float64(i)/o.ramp*float64(time.Second)))) {
			break
		}
		all.Add(1)
		opening.Add(1)
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		go func() {
			defer all.Done()
			c.converse(ctx, send, wait, &opening, start, rng)
		}()
	}
	opening.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted while opening: %w", context.Cause(ctx))
	}
	openS := time.Since(began).Seconds()
	fmt.Fprintf(progress, "sbload: %d of %d conversations open after %.1fs\n", c.live.Load(), o.conversations, openS)

	sleepUntil(ctx, time.Now().Add(o.settle))
	idle, err := readGateway(ctx, c.hc, c.base)
	if err != nil {
		return nil, err
	}
	s := &Summary{
		URL: o.url, Conversations: o.conversations, OpenS: round2(openS), DurationS: o.duration.Seconds(), IntervalS: o.interval.Seconds(),
		Idle: idleMemory(before, idle, c.live.Load()), Targets: o.targets,
	}
	fmt.Fprintf(progress, "sbload: idle memory read; messages for %s\n", o.duration)

	load0 := cpuSeconds()
	close(start)
	began = time.Now()
	sleepUntil(ctx, began.Add(o.duration))
	stopSending()
	elapsed := time.Since(began)
	if end, err := readGateway(ctx, c.hc, c.base); err == nil {
		s.GatewayCores = round2((end.cpuSeconds - idle.cpuSeconds) / elapsed.Seconds())
	} else {
		c.tally.fail("metrics after the messages")
	}
	s.LoadCores = round2((cpuSeconds() - load0) / elapsed.Seconds())

	// The replies still on their way get their time, then all streams close.
	time.AfterFunc(replyTimeout+time.Second, stopWaiting)
	if !waitFor(&all, replyTimeout+time.Second+closeGrace) {
		c.tally.fail("streams still closing at the end")
	}
	c.hc.CloseIdleConnections()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	s.Opened, s.Sent, s.Answered = c.opened.Load(), c.sent.Load(), c.answered.Load()
	s.Held = s.Opened - c.dropped.Load()
	s.PerSecond = round2(float64(s.Answered) / elapsed.Seconds())
	samples, errs, n := c.tally.take()
	s.RoundTrip, s.Errors, s.ErrorCount = summarize(samples), errs, n
	return s, nil
}

// converse is one conversation from start to end: open it, hold it idle
// until start, talk until send ends, and close it.
func (c *client) converse(ctx, send, wait context.Context, opening *sync.WaitGroup, start <-chan struct{}, rng *rand.Rand) {
	cv, err := c.open(ctx)
	if err != nil {
		c.tally.fail(err.Error())
		opening.Done()
		return
	}
	c.opened.Add(1)
	c.live.Add(1)
	go func() {
		defer c.live.Add(-1)
		c.read(ctx, cv)
	}()
	opening.Done()
	defer cv.close()
	select {
	case <-start:
		c.talk(send, wait, cv, rng)
	case <-send.Done():
	}
}

// idleMemory is the gateway's growth from before to idle, per open stream.
func idleMemory(before, idle gatewayReading, streams int64) IdleMemory {
	m := IdleMemory{Conversations: streams, GCsWhileOpening: int64(idle.gcs - before.gcs)}
	if streams > 0 {
		n := float64(streams)
		m.HeapStackKiB = round2((idle.heapStack - before.heapStack) / n / 1024)
		m.RSSKiB = round2((idle.rss - before.rss) / n / 1024)
		m.GoroutinesPer = round2((idle.goroutines - before.goroutines) / n)
	}
	return m
}

// waitFor waits for wg, at most d; it reports whether wg finished.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
