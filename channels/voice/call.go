package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard/channels/voice/engine"
	"switchboard/media"
	"switchboard/sip"
	"switchboard/store"
)

// call is one SIP call: its dialog and RTP session, answered here and then
// run by the engine on a line over them.
type call struct {
	ch   *Channel
	sip  *sip.Call
	live Live
	log  *slog.Logger
	sess *media.Session
	// convID is the call's conversation once it has one (the handler
	// notes there how the call ended).
	convID store.ConversationID

	hsMu  sync.Mutex
	hsFor int64 // the id of the handoff hs were built for
	hs    []sip.Header
}

func (cl *call) run(ctx context.Context) error {
	sess, err := cl.ch.opts.Ports.Open(cl.log)
	if err != nil {
		_ = cl.sip.Reject(503, "Service Unavailable", "")
		return fmt.Errorf("media: %w", err)
	}
	defer func() {
		sess.Close()
		cl.ch.opts.Metrics.session(sess)
	}()
	cl.sess = sess
	if err := cl.ring(ctx); err != nil {
		return err
	}
	ans, err := cl.sip.Answer(ctx, cl.local(sess))
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	codec, err := cl.startMedia(ctx, ans)
	if err != nil {
		_ = cl.sip.Hangup(context.WithoutCancel(ctx))
		return err
	}
	conv, err := cl.conversation(ctx, codec)
	if err != nil {
		_ = cl.sip.Hangup(context.WithoutCancel(ctx))
		return err
	}

	// Re-INVITEs change the session under the engine, which only ever sees
	// frames that carry their rate; the follower is the call's, and stops
	// with it.
	fctx, stopFollowing := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() { defer close(followed); cl.follow(fctx, codec) }()
	defer func() { stopFollowing(); <-followed }()

	err = cl.ch.engine.Run(ctx, engine.Call{Line: line{Session: sess, cl: cl}, Conversation: conv,
		Config: engine.Config{Voice: cl.live.Voice, Handoff: cl.live.Handoff}, Log: cl.log})
	if errors.Is(sess.Err(), media.ErrMediaTimeout) {
		cl.log.Info("media ended, hung up", "error", sess.Err())
		cl.ch.opts.Metrics.mediaTimeouts.Inc()
	}
	return err
}

// conversation starts the call's conversation. The Call-ID is its thread
// key: whatever else learns of the call by its SIP dialog finds the
// conversation by it.
func (cl *call) conversation(ctx context.Context, codec media.Codec) (store.Conversation, error) {
	conv, err := cl.ch.opts.Store.CreateConversation(ctx, store.Conversation{
		Channel: store.ChannelVoice, Customer: cl.sip.From(), ThreadKey: cl.sip.ID(),
	})
	if err != nil {
		return conv, fmt.Errorf("conversation: %w", err)
	}
	cl.log = cl.log.With("conversation_id", conv.ID)
	cl.convID = conv.ID
	text := fmt.Sprintf("Call from %s to %s (%s).", cl.sip.From(), cl.sip.To(), codec.Name())
	if err := cl.ch.opts.Turns.Note(context.WithoutCancel(ctx), conv.ID, text); err != nil {
		cl.log.Warn("note", "error", err) // the call matters more than its annotation
	}
	return conv, nil
}

// ring lets the call ring before the AI answers, when configured; a
// caller who gives up meanwhile (CANCEL) ends it.
func (cl *call) ring(ctx context.Context) error {
	d := cl.live.Voice.RingBeforeAnswer
	if d <= 0 {
		return nil
	}
	if err := cl.sip.Ringing(); err != nil {
		return fmt.Errorf("ringing: %w", err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-cl.sip.Done():
		return fmt.Errorf("caller gave up while ringing: %w", context.Cause(ctx))
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (cl *call) startMedia(ctx context.Context, ans sip.Answer) (media.Codec, error) {
	codec, err := media.NewCodec(ans.Codec.Name, ans.Codec.PayloadType)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	err = cl.sess.Start(ctx, media.SessionConfig{Codec: codec, DTMF: ans.DTMF, Remote: ans.RemoteAddr,
		MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(ans.Ptime)})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	cl.sess.Hold(ans.Direction != "sendrecv")
	return codec, nil
}

func ptime(ms int) time.Duration {
	if ms <= 0 {
		return 20 * time.Millisecond
	}
	return time.Duration(ms) * time.Millisecond
}

// follow applies the caller's re-INVITEs to the session until ctx ends.
// codec is the follower's alone.
func (cl *call) follow(ctx context.Context, codec media.Codec) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-cl.sip.Updates():
			codec = cl.update(a, codec)
		}
	}
}

// update applies one re-INVITE and returns the codec now in use.
func (cl *call) update(a sip.Answer, codec media.Codec) media.Codec {
	hold := a.Direction != "sendrecv"
	cl.log.Info("re-INVITE", "direction", a.Direction, "remote", a.RemoteAddr)
	cfg := media.SessionConfig{Codec: codec, DTMF: a.DTMF, Remote: a.RemoteAddr,
		MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(a.Ptime)}
	if a.Codec.Name != codec.Name() || a.Codec.PayloadType != codec.PayloadType() {
		if c, err := media.NewCodec(a.Codec.Name, a.Codec.PayloadType); err == nil {
			codec, cfg.Codec = c, c
		}
	}
	if err := cl.sess.Update(cfg); err != nil {
		cl.log.Warn("media update", "error", err)
	}
	cl.sess.Hold(hold)
	return codec
}

// line is the engine's view of the call: the RTP session's audio and
// digits, and hang-up, REFER and dial-out in SIP.
type line struct {
	*media.Session
	cl *call
}

var _ engine.Line = line{}

func (l line) Hangup(ctx context.Context) error { return l.cl.sip.Hangup(ctx) }

func (l line) Refer(ctx context.Context, t engine.Transfer) error { return l.cl.refer(ctx, t) }

func (l line) Dial(ctx context.Context, t engine.Transfer) (engine.Leg, error) {
	return l.cl.dial(ctx, t)
}
