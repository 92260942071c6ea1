package voice

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"switchboard/channels/voice/engine"
	"switchboard/config"
	"switchboard/media"
	"switchboard/sip"
)

// refer sends the caller's side a REFER to t's target, with the context
// headers, and waits for its NOTIFYs (up to the configured refer_timeout).
func (cl *call) refer(ctx context.Context, t engine.Transfer) error {
	hs := cl.contextHeaders(t)
	rctx, cancel := context.WithTimeout(ctx, cl.live.Voice.ReferTimeout)
	defer cancel()
	rctx = cl.timeSent(rctx, "refer", t.Decided)
	err := cl.sip.Refer(rctx, t.Target.URI, hs)
	if errors.Is(err, sip.ErrUDPTooLarge) {
		// A long summary can push the REFER past what UDP carries; the
		// conversation id and the link still bring the agent everything.
		cl.log.Info("REFER too large for UDP; sending it without the summary")
		err = cl.sip.Refer(rctx, t.Target.URI, withoutSummary(hs))
	}
	return err
}

// dial rings t's target as a second leg through the outbound trunk, with
// the context headers, and starts its media once it answers.
func (cl *call) dial(ctx context.Context, t engine.Transfer) (engine.Leg, error) {
	sess, err := cl.ch.opts.Ports.Open(cl.log)
	if err != nil {
		return nil, &engine.FailedError{Reason: "no media port for the transfer", Err: err}
	}
	hs := cl.contextHeaders(t)
	dctx := cl.timeSent(ctx, "bridge", t.Decided)
	req := sip.DialRequest{Target: t.Target.URI, Local: cl.local(sess), RingTimeout: t.Target.RingTimeout}
	var sl *sip.Leg
	for i, fewer := range shrinking(hs) {
		if i > 0 {
			cl.log.Info("bridge INVITE too large for UDP; trying with fewer context headers", "headers", len(fewer))
		}
		req.Headers = fewer
		if sl, err = cl.sip.Dial(dctx, req); !errors.Is(err, sip.ErrUDPTooLarge) {
			break
		}
	}
	if err != nil {
		sess.Close()
		return nil, &engine.FailedError{Reason: dialFailure(err, t.Target), Err: err}
	}
	ans := sl.Answer()
	codec, err := media.NewCodec(ans.Codec.Name, ans.Codec.PayloadType)
	if err == nil {
		err = sess.Start(ctx, media.SessionConfig{Codec: codec, DTMF: ans.DTMF, Remote: ans.RemoteAddr,
			MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(ans.Ptime)})
	}
	if err != nil {
		cl.log.Warn("fallback leg media", "error", err)
		_ = sl.Hangup(context.WithoutCancel(ctx))
		sess.Close()
		return nil, &engine.FailedError{Reason: "the fallback's media could not be set up", Err: err}
	}
	return newLeg(sl, sess, cl.ch.opts.Metrics), nil
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

// leg is a fallback line that answered: its SIP dialog and RTP session.
// Its Done is its session's, which ends when the far end hangs up too.
type leg struct {
	*media.Session
	sip     *sip.Leg
	metrics *Metrics
	watched chan struct{}
	closed  sync.Once
}

var _ engine.Leg = (*leg)(nil)

func newLeg(sl *sip.Leg, sess *media.Session, m *Metrics) *leg {
	l := &leg{Session: sess, sip: sl, metrics: m, watched: make(chan struct{})}
	go l.watch()
	return l
}

// watch ends the session when the far end hangs up, so that a bridge sees
// the leg end whichever way it ends. Hangup waits for it.
func (l *leg) watch() {
	defer close(l.watched)
	select {
	case <-l.sip.Done():
		l.Session.Close()
	case <-l.Session.Done():
	}
}

// Hangup sends BYE unless the leg has ended, and frees its media.
func (l *leg) Hangup(ctx context.Context) error {
	err := l.sip.Hangup(ctx)
	l.closed.Do(func() {
		l.Session.Close()
		<-l.watched
		l.metrics.session(l.Session)
	})
	return err
}

// contextHeaders are DESIGN's context headers plus the target's own,
// expanded, built once per handoff (a REFER and then a bridge carry the
// same). A header whose template fails is left out, never the call.
// What was said is masked (handoff.pii) before any header is built from it.
func (cl *call) contextHeaders(t engine.Transfer) []sip.Header {
	cl.hsMu.Lock()
	defer cl.hsMu.Unlock()
	if cl.hs != nil && cl.hsFor == t.Handoff.ID {
		return cl.hs
	}
	h := t.Handoff
	sc := sip.Context{ConversationID: string(h.ConversationID), Reason: h.Reason, Trigger: h.Trigger, Topic: h.Topic,
		Summary: h.Summary, CallerNumber: cl.sip.From(), CalledNumber: cl.sip.To(), ConsoleURL: cl.live.ConsoleURL}
	sc = sc.Masked(cl.live.Masker.Mask)
	hs := sip.ContextHeaders(sc)
	for _, n := range slices.Sorted(maps.Keys(t.Target.Headers)) {
		v, err := sip.ExpandTemplate(t.Target.Headers[n], sc)
		if err != nil {
			cl.log.Warn("context headers", "error", fmt.Errorf("header %s: %w", n, err))
			continue
		}
		hs = append(hs, sip.Header{Name: n, Value: v})
	}
	cl.hsFor, cl.hs = h.ID, hs
	return hs
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
