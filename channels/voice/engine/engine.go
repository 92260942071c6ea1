// Package engine is the spoken call: it listens to a caller on a Line
// (VAD, pre-roll, streamed recognition, DTMF), runs the turns with the
// dialog conductor, speaks the replies (barge-in included) and carries out
// a handoff by the transfer actions the line supports, bridging the caller
// to a second leg when one answers. One owner goroutine runs each call.
//
// It knows no signalling protocol: SIP/RTP, WebRTC and Twilio Media
// Streams are line adapters that answer the call, hand the engine a Line,
// and carry out REFER or an outbound leg in their own protocol. It must
// not import package sip.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/speech"
	"switchboard/store"
)

// errCallOver ends what a call started once its owner loop has returned.
var errCallOver = errors.New("call over")

// Options are the engine's dependencies, shared by every call.
type Options struct {
	Store   store.Store
	Turns   *dialog.Conductor
	STT     speech.STT
	TTS     speech.TTS
	Metrics *Metrics
	// ObserveReply, when set, gets each reply's latency as it is measured
	// (the end of the caller's speech to the reply's first audio): for
	// benchmarks that want every sample, not histogram buckets.
	ObserveReply func(time.Duration)
}

// Engine runs calls. It holds what calls share: the providers and the
// prompts synthesised once for all of them.
type Engine struct {
	opts    Options
	prompts *prompts
}

// New builds an engine.
func New(opts Options) *Engine {
	return &Engine{opts: opts, prompts: newPrompts(opts.TTS)}
}

// Config is the part of the config a call runs on; a call takes one at its
// start and keeps it, so a reload never changes a call halfway. Of Voice
// the engine reads the greeting, end_of_speech and handoff_digit; of
// Handoff the messages and targets.
type Config struct {
	Voice   config.VoiceChannel
	Handoff config.Handoff
}

// Call is one answered call to run.
type Call struct {
	Line         Line
	Conversation store.Conversation // created by the adapter, which knows the channel and thread
	Config       Config
	// Log is the call's, with the keys that identify it to the line's
	// protocol and the conversation (call_id, conversation_id); nil
	// discards.
	Log *slog.Logger
}

// call is one call being run. Its run loop (the owner) is the only reader
// of the line's audio and DTMF; spoken turns run on the worker goroutine so
// that listening never stops while the AI thinks or talks.
type call struct {
	e    *Engine
	line Line
	cfg  Config
	log  *slog.Logger
	conv store.Conversation

	jobs       chan job
	stopWorker context.CancelFunc

	// A transfer is the loop's: the worker asks for one on handoffs, the
	// loop starts it (one at a time), hears its outcome (a leg to bridge,
	// or none) and waits for it when the call ends.
	handoffs     chan pendingHandoff
	outcomes     chan bridged
	transferring bool
	transfers    sync.WaitGroup

	speakerMu sync.Mutex
	speaker   *speaker // the turn's, while it speaks a streamed reply

	replyMu  sync.Mutex
	replyEnd time.Time // end of the utterance being answered, until its reply starts

	// starts counts utterances the caller started (the run loop adds);
	// resumed wakes a worker waiting to see whether the caller goes on.
	starts  atomic.Int64
	resumed chan struct{}
	held    string // the worker's: words waiting for the rest of the sentence
}

// Run talks with the caller on c.Line from the greeting until the call
// ends: the line ends, ctx ends, or a bridged leg hangs up. It returns
// once every goroutine it started has stopped; the line's media is the
// adapter's to close afterwards.
func (e *Engine) Run(ctx context.Context, c Call) error {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, end := context.WithCancelCause(ctx)
	cl := &call{e: e, line: c.Line, cfg: c.Config, conv: c.Conversation, log: log}
	e.opts.Metrics.calls.Inc()

	wctx, stop := context.WithCancel(ctx)
	cl.stopWorker = stop
	cl.jobs, cl.resumed = make(chan job, 8), make(chan struct{}, 1)
	cl.handoffs, cl.outcomes = make(chan pendingHandoff), make(chan bridged)
	worked := make(chan struct{})
	go func() { defer close(worked); cl.work(wctx) }()
	defer func() {
		// The call is over: everything it started stops, and is waited for,
		// a transfer included (a leg it was about to hand over is hung up).
		end(errCallOver)
		<-worked
		cl.transfers.Wait()
	}()
	cl.jobs <- job{greet: true}
	if err := cl.loop(ctx); err != nil {
		return fmt.Errorf("call %s: %w", c.Conversation.ID, err)
	}
	return nil
}
