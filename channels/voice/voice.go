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
	"log/slog"
	"net/netip"
	"time"

	"switchboard/channels/voice/engine"
	"switchboard/config"
	"switchboard/dialog"
	"switchboard/handoff"
	"switchboard/media"
	"switchboard/sip"
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
	STT     dialog.STT
	TTS     dialog.TTS
	Live    func() Live
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// ObserveReply, when set, gets each reply's latency as it is measured
	// (the end of the caller's speech to the reply's first audio): for
	// benchmarks that want every sample, not histogram buckets.
	ObserveReply func(time.Duration)
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
	if err := cl.run(ctx); err != nil && ctx.Err() == nil {
		log.Warn("call ended with an error", "error", err)
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
