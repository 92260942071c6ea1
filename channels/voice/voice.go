// Package voice is the phone channel: it answers the calls package sip
// admits, opens each call's RTP session (package media), and hands the
// call to the call engine (package engine) as a SIP line, carrying out the
// engine's transfers by REFER or by dialling the target as a second leg.
//
// It is an adapter: what to say and when to hand off come from the engine,
// the dialog conductor and the handoff policy; how to speak SIP and RTP
// comes from sip and media.
package voice

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"switchboard/channels/voice/engine"
	"switchboard/config"
	"switchboard/dialog"
	"switchboard/handoff"
	"switchboard/media"
	"switchboard/sip"
	"switchboard/speech"
	"switchboard/store"
)

// Live is the part of the config a call runs on; a call takes one at its
// start and keeps it, so a reload never changes a call halfway.
type Live struct {
	Voice      config.VoiceChannel
	Handoff    config.Handoff
	ConsoleURL string // base of the agent console's conversation pages
	// Masker hides personal data (handoff.pii) in the context headers of
	// a transfer; nil masks nothing.
	Masker *handoff.Masker
}

// Options are the Channel's dependencies.
type Options struct {
	Store   store.Store
	Turns   *dialog.Conductor
	Ports   *media.Ports
	STT     speech.STT
	TTS     speech.TTS
	Live    func() Live
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// ObserveReply, when set, gets each reply's latency as it is measured
	// (the end of the caller's speech to the reply's first audio): for
	// benchmarks that want every sample, not histogram buckets.
	ObserveReply func(time.Duration)
	// Instance names this gateway in the store's live-call records (so a
	// call whose instance died is found and closed); "" records none.
	Instance string
}

// Channel handles every call; it implements sip.Handler.
type Channel struct {
	opts   Options
	engine *engine.Engine
}

// New builds the voice channel.
func New(opts Options) *Channel {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := engine.New(engine.Options{Store: opts.Store, Turns: opts.Turns, STT: opts.STT, TTS: opts.TTS,
		Metrics: opts.Metrics.engine, ObserveReply: opts.ObserveReply})
	return &Channel{opts: opts, engine: e}
}

// HandleCall runs one call from answer to hang-up. sip calls it on the
// call's own goroutine; ctx ends when the call does.
func (ch *Channel) HandleCall(ctx context.Context, c *sip.Call) {
	live := ch.opts.Live()
	log := ch.opts.Log.With("call_id", c.ID(), "from", c.From(), "to", c.To())
	cl := &call{ch: ch, sip: c, live: live, log: log}
	defer ch.track(ctx, c.ID(), log)()
	if err := cl.run(ctx); err != nil && ctx.Err() == nil {
		log.Warn("call ended with an error", "error", err)
	}
	if cl.convID != "" && errors.Is(context.Cause(ctx), sip.ErrServerClosed) {
		// The gateway stopped with the call up (drain_timeout passed):
		// whoever reads the conversation must know the caller was cut off.
		note := "Call ended by the gateway: it was stopping and the call outlasted its drain timeout."
		if err := ch.opts.Turns.Note(context.WithoutCancel(ctx), cl.convID, note); err != nil {
			log.Warn("note", "error", err)
		}
	}
}

// track records the call as under way on this instance until the returned
// func runs. A store that fails here costs the call nothing: only its
// clean-up after a crash.
func (ch *Channel) track(ctx context.Context, callID string, log *slog.Logger) (done func()) {
	if ch.opts.Instance == "" {
		return func() {}
	}
	err := ch.opts.Store.CallStarted(ctx, store.LiveCall{CallID: callID, Channel: store.ChannelVoice, Instance: ch.opts.Instance})
	if err != nil {
		log.Warn("live call not recorded", "error", err)
	}
	return func() {
		if err := ch.opts.Store.CallEnded(context.WithoutCancel(ctx), callID); err != nil {
			log.Warn("live call not cleared", "error", err)
		}
	}
}

// preference turns the configured codec names into the SDP preference.
func preference(names []string) []sip.Codec {
	out := make([]sip.Codec, 0, len(names))
	for _, n := range names {
		switch n {
		case "PCMU":
			out = append(out, sip.Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000})
		case "PCMA":
			out = append(out, sip.Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000})
		case "G722":
			out = append(out, sip.Codec{Name: "G722", PayloadType: 9, ClockRate: 8000})
		}
	}
	return out
}

// local is our side of an SDP exchange for a session.
func (cl *call) local(s *media.Session) sip.Local {
	addr, _ := netip.ParseAddr(cl.live.Voice.PublicAddress) // validated with the config
	return sip.Local{Addr: addr, Port: s.LocalPort(), SessionID: uint64(cl.ch.opts.Now().UnixNano()), SessionVersion: 1,
		Preference: preference(cl.live.Voice.Codecs)}
}
