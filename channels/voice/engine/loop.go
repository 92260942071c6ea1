package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/media"
	"switchboard/speech"
)

// preRoll is how much audio before the VAD's speech start goes to the
// recogniser: the VAD needs a few frames to be sure, and the first
// syllable must not be cut.
const preRoll = 15 // frames of 20 ms

// loop listens: audio through the VAD to the recogniser, DTMF, transfers
// and the end of the call. A bridged leg takes the media over.
func (cl *call) loop(ctx context.Context) error {
	in := listening{rate: recogniserRate(cl.line.SampleRate())}
	ear := &ear{in: in, vad: media.NewVAD(in.rate, media.VADConfig{EndSilence: cl.cfg.Voice.EndOfSpeech})}
	audio, dtmf := cl.line.Audio(), cl.line.DTMF()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cl.line.Done():
			cl.log.Info("line ended", "cause", cl.line.Err())
			// A line that ended by our caller's hang-up ignores this; one
			// whose media stopped is hung up.
			return cl.hangup(ctx)
		case d, ok := <-dtmf:
			if !ok {
				dtmf = nil // the line ended; its Done says so
				continue
			}
			cl.digit(d)
		case p := <-cl.handoffs:
			cl.startTransfer(ctx, p)
		case b := <-cl.outcomes:
			cl.transferring = false
			if b.leg != nil {
				return cl.bridge(ctx, b)
			}
		case f, ok := <-audio:
			if !ok {
				audio = nil
				continue
			}
			cl.hear(ctx, ear, f)
		}
	}
}

// ear is the loop's listening state.
type ear struct {
	in     listening
	vad    *media.VAD
	stream speech.STTStream // the utterance being recognised, if any
	recent preRollRing
}

// hear takes one frame of the caller's: through the VAD, and to the
// recogniser while the caller speaks; the end of an utterance goes to the
// worker.
func (cl *call) hear(ctx context.Context, e *ear, f media.Frame) {
	frame := e.in.frame(f)
	switch e.vad.Process(frame) {
	case media.VADSpeechStart:
		cl.speechStarts()
		cl.bargeIn() // the caller talks over the AI
		e.stream = cl.startListening(ctx, e.in.rate, &e.recent)
	case media.VADSpeechEnd:
		if e.stream != nil {
			_ = e.stream.Write(frame)
			cl.enqueue(job{utterance: e.stream, ended: time.Now(), seq: cl.starts.Load()})
			e.stream = nil
		}
		return
	}
	if e.stream != nil && e.vad.InSpeech() {
		if err := e.stream.Write(frame); err != nil {
			cl.log.Warn("recogniser", "error", err)
		}
	}
	e.recent.push(frame)
}

func (cl *call) startListening(ctx context.Context, rate int, recent *preRollRing) speech.STTStream {
	s, err := cl.e.opts.STT.Start(ctx, rate)
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

// preRollRing keeps the last preRoll frames. Frames from the line are
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

func (cl *call) digit(d rune) {
	cl.log.Info("dtmf", "digit", string(d))
	if k := cl.cfg.Voice.HandoffDigit; k != "" && string(d) == k {
		cl.line.StopPlayback()
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

// hangup ends the call from our side, even once ctx has ended: the far
// end must hear it.
func (cl *call) hangup(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := cl.line.Hangup(hctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("hang up: %w", err)
	}
	return nil
}

// note puts what happened on the call into the transcript; a failure is
// logged, not fatal: the call matters more than its annotation.
func (cl *call) note(ctx context.Context, text string) {
	if err := cl.e.opts.Turns.Note(context.WithoutCancel(ctx), cl.conv.ID, text); err != nil {
		cl.log.Warn("note", "error", err)
	}
}
