package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// speaker speaks a streamed reply sentence by sentence while the responder
// is still writing it: the caller hears the first sentence without waiting
// for the last. It is one turn's; the caller barging in silences it (the
// sentences still to come are dropped; the reply is stored whole all the
// same).
type speaker struct {
	cl     *call
	ctx    context.Context
	cancel context.CancelFunc
	// notBefore holds the first sentence back until then (see joinWithin);
	// gated says it has been waited for. Only say touches them.
	notBefore time.Time
	gated     bool

	begun atomic.Int32 // sentences whose playback began

	mu      sync.Mutex
	queue   []string
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	lastErr error
}

func (cl *call) newSpeaker(ctx context.Context, notBefore time.Time) *speaker {
	ctx, cancel := context.WithCancel(ctx)
	sp := &speaker{cl: cl, ctx: ctx, cancel: cancel, notBefore: notBefore, wake: make(chan struct{}, 1), done: make(chan struct{})}
	cl.setSpeaker(sp)
	go sp.run()
	return sp
}

// say queues a sentence. Only the first may wait, until notBefore; one
// silenced meanwhile is dropped.
func (sp *speaker) say(text string) {
	if !sp.gated {
		sp.gated = true
		if !sp.waitUntil(sp.notBefore) {
			return
		}
	}
	sp.mu.Lock()
	sp.queue = append(sp.queue, text)
	sp.mu.Unlock()
	select {
	case sp.wake <- struct{}{}:
	default:
	}
}

// waitUntil waits for t; false if the speaker was silenced first.
func (sp *speaker) waitUntil(t time.Time) bool {
	if d := time.Until(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-sp.ctx.Done():
		}
	}
	return sp.ctx.Err() == nil
}

// finish waits until every queued sentence is spoken, or silenced.
func (sp *speaker) finish() error {
	sp.mu.Lock()
	sp.closed = true
	sp.mu.Unlock()
	select {
	case sp.wake <- struct{}{}:
	default:
	}
	<-sp.done
	sp.cl.setSpeaker(nil)
	sp.cancel()
	return sp.lastErr
}

// heard is how many sentences the caller began to hear.
func (sp *speaker) heard() int { return int(sp.begun.Load()) }

// silence drops what is queued and stops what is playing (barge-in).
func (sp *speaker) silence() { sp.cancel() }

func (sp *speaker) run() {
	defer close(sp.done)
	for {
		sp.mu.Lock()
		if len(sp.queue) == 0 && sp.closed {
			sp.mu.Unlock()
			return
		}
		var next string
		if len(sp.queue) > 0 {
			next, sp.queue = sp.queue[0], sp.queue[1:]
		}
		sp.mu.Unlock()
		if next == "" {
			select {
			case <-sp.wake:
			case <-sp.ctx.Done():
			}
			if sp.ctx.Err() != nil {
				sp.drop()
				return
			}
			continue
		}
		if sp.ctx.Err() != nil {
			sp.drop()
			return
		}
		sp.begun.Add(1)
		if err := sp.cl.speak(sp.ctx, next); err != nil && sp.ctx.Err() == nil {
			sp.lastErr = err
		}
	}
}

// drop empties the queue once silenced, waiting for the end of the stream
// so that say never blocks.
func (sp *speaker) drop() {
	for {
		sp.mu.Lock()
		sp.queue = nil
		closed := sp.closed
		sp.mu.Unlock()
		if closed {
			return
		}
		<-sp.wake
	}
}

// setSpeaker records the turn's speaker for barge-in.
func (cl *call) setSpeaker(sp *speaker) {
	cl.speakerMu.Lock()
	cl.speaker = sp
	cl.speakerMu.Unlock()
}

// bargeIn: the caller started talking over the AI.
func (cl *call) bargeIn() {
	cl.line.StopPlayback()
	cl.speakerMu.Lock()
	if cl.speaker != nil {
		cl.speaker.silence()
	}
	cl.speakerMu.Unlock()
}
