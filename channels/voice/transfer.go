package voice

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"switchboard/config"
	"switchboard/media"
	"switchboard/sip"
	"switchboard/store"

	"time"
)

// bridged is a fallback leg that answered, handed to the call's loop, which
// owns the caller's media and so is the one to bridge it.
type bridged struct {
	leg    *sip.Leg
	sess   *media.Session
	target string
}

// transfer carries out handoff h on the phone: REFER, bridge, or REFER and
// then bridge when the trunk refuses. It goes only to the configured target
// the handoff names, never to an address that came from the caller.
// Whatever fails, the call stays up and the AI takes it back.
func (cl *call) transfer(ctx context.Context, h store.Handoff, decided time.Time) {
	defer cl.transferring.Store(false)
	target, ok := cl.live.Handoff.Targets[h.Target]
	if !ok || target.Kind != "sip" {
		cl.failed(ctx, h, "the handoff target "+h.Target+" cannot take phone calls")
		return
	}
	hs, err := cl.contextHeaders(h, target)
	if err != nil {
		cl.log.Warn("context headers", "error", err)
	}
	if target.Method == "refer" || target.Method == "refer_then_bridge" {
		err := cl.refer(ctx, h, target, hs, decided)
		if err == nil || ctx.Err() != nil {
			return
		}
		cl.log.Info("REFER did not transfer the call", "error", err)
		cl.note(ctx, fmt.Sprintf("REFER to %s failed: %v.", h.Target, err))
		if target.Method == "refer" {
			cl.failed(ctx, h, "the transfer was refused")
			return
		}
		decided = time.Now()
	}
	cl.dial(ctx, h, target, hs, decided)
}

func (cl *call) refer(ctx context.Context, h store.Handoff, target config.Target, hs []sip.Header, decided time.Time) error {
	rctx, cancel := context.WithTimeout(ctx, cl.live.Voice.ReferTimeout)
	defer cancel()
	rctx = cl.timeSent(rctx, "refer", decided)
	err := cl.sip.Refer(rctx, target.URI, hs)
	if errors.Is(err, sip.ErrUDPTooLarge) {
		// A long summary can push the REFER past what UDP carries; the
		// conversation id and the link still bring the agent everything.
		cl.log.Info("REFER too large for UDP; sending it without the summary")
		err = cl.sip.Refer(rctx, target.URI, withoutSummary(hs))
	}
	if err != nil {
		cl.ch.opts.Metrics.transfers.WithLabelValues("refer", "failed").Inc()
		return err
	}
	cl.ch.opts.Metrics.transfers.WithLabelValues("refer", "ok").Inc()
	cl.note(ctx, fmt.Sprintf("Transferred to %s (%s) by REFER.", h.Target, target.URI))
	// The transferee usually ends our leg itself; if not, we do.
	_ = cl.hangup(ctx)
	return nil
}

// dial rings the fallback as a second leg; when it answers, the call's loop
// bridges the two. No answer, busy or an error: the AI comes back.
func (cl *call) dial(ctx context.Context, h store.Handoff, target config.Target, hs []sip.Header, decided time.Time) {
	legSess, err := cl.ch.opts.Ports.Open(cl.log)
	if err != nil {
		cl.failed(ctx, h, "no media port for the transfer")
		return
	}
	dctx := cl.timeSent(ctx, "bridge", decided)
	req := sip.DialRequest{Target: target.URI, Local: cl.local(legSess), RingTimeout: target.RingTimeout}
	var leg *sip.Leg
	for i, fewer := range shrinking(hs) {
		if i > 0 {
			cl.log.Info("bridge INVITE too large for UDP; trying with fewer context headers", "headers", len(fewer))
		}
		req.Headers = fewer
		if leg, err = cl.sip.Dial(dctx, req); !errors.Is(err, sip.ErrUDPTooLarge) {
			break
		}
	}
	if err != nil {
		legSess.Close()
		if ctx.Err() != nil {
			cl.ch.opts.Metrics.transfers.WithLabelValues("bridge", "caller_left").Inc()
			return // the caller hung up while it rang; sip cancelled the INVITE
		}
		cl.ch.opts.Metrics.transfers.WithLabelValues("bridge", "failed").Inc()
		cl.failed(ctx, h, dialFailure(err, target))
		return
	}
	ans := leg.Answer()
	codec, err := media.NewCodec(ans.Codec.Name, ans.Codec.PayloadType)
	if err == nil {
		err = legSess.Start(ctx, media.SessionConfig{Codec: codec, DTMF: ans.DTMF, Remote: ans.RemoteAddr,
			MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(ans.Ptime)})
	}
	if err != nil {
		cl.log.Warn("fallback leg media", "error", err)
		_ = leg.Hangup(context.WithoutCancel(ctx))
		legSess.Close()
		cl.failed(ctx, h, "the fallback's media could not be set up")
		return
	}
	cl.ch.opts.Metrics.transfers.WithLabelValues("bridge", "ok").Inc()
	select {
	case cl.bridges <- bridged{leg: leg, sess: legSess, target: h.Target}:
	case <-ctx.Done():
		_ = leg.Hangup(context.WithoutCancel(ctx))
		legSess.Close()
	}
}

func dialFailure(err error, target config.Target) string {
	var de *sip.DialError
	if errors.As(err, &de) {
		if de.Timeout {
			return fmt.Sprintf("no answer within %v", target.RingTimeout)
		}
		return fmt.Sprintf("the line answered %d", de.Status)
	}
	return err.Error()
}

// bridge relays media between the caller and the fallback leg until either
// hangs up, then hangs up the other. The AI has left the call.
func (cl *call) bridge(ctx context.Context, b bridged) error {
	defer func() {
		b.sess.Close()
		cl.ch.opts.Metrics.session(b.sess)
	}()
	cl.stopWorker()
	cl.sess.StopPlayback()
	cl.note(ctx, "Bridged to "+b.target+"; the AI has left the call.")
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-cl.sip.Done():
		case <-b.leg.Done():
		case <-bctx.Done():
		}
		cancel()
	}()
	err := media.Bridge(bctx, cl.sess, b.sess)
	hctx := context.WithoutCancel(ctx)
	select {
	case <-cl.sip.Done():
		_ = b.leg.Hangup(hctx)
	case <-b.leg.Done():
		_ = cl.hangup(hctx)
	default: // media ended on one side: end both
		_ = b.leg.Hangup(hctx)
		_ = cl.hangup(hctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("bridge: %w", err)
	}
	return nil
}

// failed gives the call back to the AI, records a callback and tells the
// caller.
func (cl *call) failed(ctx context.Context, h store.Handoff, why string) {
	msg, err := cl.ch.opts.Turns.TransferFailed(ctx, h, why)
	if err != nil {
		cl.log.Error("transfer failed and the callback was not recorded", "error", err)
		return
	}
	cl.enqueue(job{say: msg.Text})
}

// contextHeaders are DESIGN's context headers plus the target's own,
// expanded. A header whose template fails is left out, never the call.
// What was said is masked (handoff.pii) before any header is built from it.
func (cl *call) contextHeaders(h store.Handoff, t config.Target) ([]sip.Header, error) {
	sc := sip.Context{ConversationID: string(h.ConversationID), Reason: h.Reason, Trigger: h.Trigger, Topic: h.Topic,
		Summary: h.Summary, CallerNumber: cl.sip.From(), CalledNumber: cl.sip.To(), ConsoleURL: cl.live.ConsoleURL}
	sc = sc.Masked(cl.live.Masker.Mask)
	hs := sip.ContextHeaders(sc)
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(t.Headers)) {
		v, err := sip.ExpandTemplate(t.Headers[n], sc)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: %w", n, err))
			continue
		}
		hs = append(hs, sip.Header{Name: n, Value: v})
	}
	return hs, errors.Join(errs...)
}

func withoutSummary(hs []sip.Header) []sip.Header { return without(hs, sip.HeaderSummary) }

// shrinking is hs, then hs without the summary, then without the link and
// User-to-User as well, each only when it leaves something out: what fits a
// UDP datagram that must leave room for digest credentials. The
// conversation id, which leads to everything else, the reason and the
// target's own headers always go.
func shrinking(hs []sip.Header) [][]sip.Header {
	out := [][]sip.Header{hs}
	for _, drop := range [][]string{{sip.HeaderSummary}, {sip.HeaderSummary, sip.HeaderLink, sip.HeaderUserToUser}} {
		if fewer := without(hs, drop...); len(fewer) < len(out[len(out)-1]) {
			out = append(out, fewer)
		}
	}
	return out
}

func without(hs []sip.Header, names ...string) []sip.Header {
	out := make([]sip.Header, 0, len(hs))
	for _, h := range hs {
		if !slices.Contains(names, h.Name) {
			out = append(out, h)
		}
	}
	return out
}

// timeSent measures the handoff decision to the REFER or INVITE leaving
// the gateway (once per transfer step).
func (cl *call) timeSent(ctx context.Context, method string, decided time.Time) context.Context {
	var once sync.Once
	return sip.WithSent(ctx, func() {
		once.Do(func() {
			cl.ch.opts.Metrics.transferStart.WithLabelValues(method).Observe(time.Since(decided).Seconds())
		})
	})
}
