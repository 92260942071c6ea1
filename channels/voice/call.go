package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/dialog"
	"switchboard/media"
	"switchboard/sip"
	"switchboard/store"
)

// preRoll is how much audio before the VAD's speech start goes to the
// recogniser: the VAD needs a few frames to be sure, and the first
// syllable must not be cut.
const preRoll = 15 // frames of 20 ms

// call is one answered call. Its run loop is the only reader of the
// session's audio and DTMF; spoken turns run on the worker goroutine so
// that listening never stops while the AI thinks or talks.
type call struct {
	ch   *Channel
	sip  *sip.Call
	live Live
	log  *slog.Logger

	ctx  context.Context // the call's: ends when the call does
	sess *media.Session
	// codec is the run loop's alone (a re-INVITE changes it there); the
	// worker asks the session for the rate it sends at.
	codec media.Codec
	conv  store.Conversation

	jobs         chan job
	bridges      chan bridged // a fallback leg that answered, for the loop to bridge
	transferring atomic.Bool
	stopWorker   context.CancelFunc

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

func (cl *call) run(ctx context.Context) error {
	cl.ctx = ctx
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
	if err := cl.startMedia(ctx, ans); err != nil {
		_ = cl.sip.Hangup(context.WithoutCancel(ctx))
		return err
	}
	cl.ch.opts.Metrics.calls.Inc()
	// The Call-ID is the call's thread key: whatever else learns of the
	// call by its SIP dialog finds the conversation by it.
	conv, err := cl.ch.opts.Store.CreateConversation(ctx, store.Conversation{
		Channel: store.ChannelVoice, Customer: cl.sip.From(), ThreadKey: cl.sip.ID(),
	})
	if err != nil {
		_ = cl.sip.Hangup(context.WithoutCancel(ctx))
		return fmt.Errorf("conversation: %w", err)
	}
	cl.conv = conv
	cl.log = cl.log.With("conversation_id", conv.ID)
	cl.note(ctx, fmt.Sprintf("Call from %s to %s (%s).", cl.sip.From(), cl.sip.To(), cl.codec.Name()))

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	cl.stopWorker = stop
	cl.jobs, cl.bridges, cl.resumed = make(chan job, 8), make(chan bridged, 1), make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { defer close(done); cl.work(wctx) }()
	defer func() { stop(); <-done }()
	cl.jobs <- job{greet: true}
	return cl.loop(ctx)
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

func (cl *call) startMedia(ctx context.Context, ans sip.Answer) error {
	codec, err := media.NewCodec(ans.Codec.Name, ans.Codec.PayloadType)
	if err != nil {
		return fmt.Errorf("codec: %w", err)
	}
	cl.codec = codec
	err = cl.sess.Start(ctx, media.SessionConfig{Codec: codec, DTMF: ans.DTMF, Remote: ans.RemoteAddr,
		MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(ans.Ptime)})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	cl.sess.Hold(ans.Direction != "sendrecv")
	return nil
}

func ptime(ms int) time.Duration {
	if ms <= 0 {
		return 20 * time.Millisecond
	}
	return time.Duration(ms) * time.Millisecond
}

// loop listens: audio through the VAD to the recogniser, DTMF, re-INVITEs,
// and the ends of the call. A bridged fallback leg takes the media over.
func (cl *call) loop(ctx context.Context) error {
	in := listening{rate: recogniserRate(cl.codec.SampleRate())}
	vad := media.NewVAD(in.rate, media.VADConfig{EndSilence: cl.live.Voice.EndOfSpeech})
	var (
		stream dialog.STTStream
		recent preRollRing
		audio  = cl.sess.Audio()
		dtmf   = cl.sess.DTMF()
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cl.sip.Done():
			return nil
		case <-cl.sess.Done():
			cl.log.Info("media ended, hanging up", "error", cl.sess.Err())
			cl.ch.opts.Metrics.mediaTimeouts.Inc()
			return cl.hangup(ctx)
		case a := <-cl.sip.Updates():
			cl.update(a)
		case d, ok := <-dtmf:
			if !ok {
				dtmf = nil // the session ended; its Done says so
				continue
			}
			cl.digit(d)
		case b := <-cl.bridges:
			return cl.bridge(ctx, b)
		case f, ok := <-audio:
			if !ok {
				audio = nil
				continue
			}
			frame := in.frame(f)
			switch vad.Process(frame) {
			case media.VADSpeechStart:
				cl.speechStarts()
				cl.bargeIn() // the caller talks over the AI
				stream = cl.startListening(ctx, in.rate, &recent)
			case media.VADSpeechEnd:
				if stream != nil {
					_ = stream.Write(frame)
					cl.enqueue(job{utterance: stream, ended: time.Now(), seq: cl.starts.Load()})
					stream = nil
				}
				continue
			}
			if stream != nil && vad.InSpeech() {
				if err := stream.Write(frame); err != nil {
					cl.log.Warn("recogniser", "error", err)
				}
			}
			recent.push(frame)
		}
	}
}

func (cl *call) startListening(ctx context.Context, rate int, recent *preRollRing) dialog.STTStream {
	s, err := cl.ch.opts.STT.Start(ctx, rate)
	if err != nil {
		cl.log.Warn("recogniser unavailable", "error", err)
		return nil
	}
	recent.each(func(f []int16) { _ = s.Write(f) })
	return s
}

// recogniserRate is the rate the VAD and the recogniser run at for a call
// whose line starts at lineRate: wideband audio is heard at 16 kHz (what
// pocketsphinx's models are trained on), narrowband at 8 kHz.
func recogniserRate(lineRate int) int {
	if lineRate >= 16000 {
		return 16000
	}
	return 8000
}

// listening brings the caller's frames to the recogniser's rate. The rate
// is chosen once per call, since an utterance and the VAD's noise floor
// span frames; a re-INVITE that changes the codec changes the frames'
// rate, not the recogniser's, and from then on they are resampled.
type listening struct {
	rate int // the recogniser's
	from int // the rate rs converts from
	rs   *media.Resampler
	buf  []int16
}

// frame returns f at the recogniser's rate, valid until the next call.
func (l *listening) frame(f media.Frame) []int16 {
	if f.Rate == l.rate || f.Rate <= 0 {
		return f.PCM
	}
	if l.rs == nil || l.from != f.Rate {
		l.rs, l.from = media.NewResampler(f.Rate, l.rate), f.Rate
	}
	l.buf = l.rs.Process(l.buf[:0], f.PCM)
	return l.buf
}

// preRollRing keeps the last preRoll frames. Frames from the session are
// reused by it, so they are copied, into buffers the ring reuses in turn:
// nothing is allocated per frame once it is full.
type preRollRing struct {
	frames [preRoll][]int16
	next   int // slot the next frame goes to
	n      int // frames held
}

func (r *preRollRing) push(f []int16) {
	r.frames[r.next] = append(r.frames[r.next][:0], f...)
	r.next = (r.next + 1) % preRoll
	r.n = min(r.n+1, preRoll)
}

// each calls f with the frames held, oldest first.
func (r *preRollRing) each(f func([]int16)) {
	for i := range r.n {
		f(r.frames[(r.next-r.n+i+preRoll)%preRoll])
	}
}

func (cl *call) update(a sip.Answer) {
	hold := a.Direction != "sendrecv"
	cl.log.Info("re-INVITE", "direction", a.Direction, "remote", a.RemoteAddr)
	cfg := media.SessionConfig{Codec: cl.codec, DTMF: a.DTMF, Remote: a.RemoteAddr,
		MediaTimeout: cl.live.Voice.MediaTimeout, Ptime: ptime(a.Ptime)}
	if a.Codec.Name != cl.codec.Name() || a.Codec.PayloadType != cl.codec.PayloadType() {
		if c, err := media.NewCodec(a.Codec.Name, a.Codec.PayloadType); err == nil {
			cl.codec, cfg.Codec = c, c
		}
	}
	if err := cl.sess.Update(cfg); err != nil {
		cl.log.Warn("media update", "error", err)
	}
	cl.sess.Hold(hold)
}

func (cl *call) digit(d rune) {
	cl.log.Info("dtmf", "digit", string(d))
	if k := cl.live.Voice.HandoffDigit; k != "" && string(d) == k {
		cl.sess.StopPlayback()
		cl.enqueue(job{explicit: true, digit: d})
	}
}

// enqueue hands a job to the worker; a caller who piles up more than the
// queue holds while the AI is busy loses the oldest-but-one intent, never
// the call.
func (cl *call) enqueue(j job) {
	select {
	case cl.jobs <- j:
	default:
		cl.log.Warn("turn queue full, dropping an utterance")
		if j.utterance != nil {
			_, _ = j.utterance.Close()
		}
	}
}

func (cl *call) hangup(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := cl.sip.Hangup(hctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("hang up: %w", err)
	}
	return nil
}

// note puts what happened on the call into the transcript; a failure is
// logged, not fatal: the call matters more than its annotation.
func (cl *call) note(ctx context.Context, text string) {
	if err := cl.ch.opts.Turns.Note(context.WithoutCancel(ctx), cl.conv.ID, text); err != nil {
		cl.log.Warn("note", "error", err)
	}
}
